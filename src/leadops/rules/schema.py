"""The rules document: one YAML file, validated by these models, versioned in ``rules_versions``."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

RULE_ID = r"^[a-z0-9][a-z0-9_\-]*$"
ROUTING_STRATEGIES = (
    "round_robin",
    "least_loaded",
    "by_field",
    "by_score",
    "by_win_rate",
    "account_owner",
    "manager",
)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ScoreGroup(Strict):
    name: str = Field(pattern=RULE_ID)
    total: bool = Field(True, description="Whether the group counts towards the lead's score.")
    label_ja: str | None = None
    label_en: str | None = None


class Cap(Strict):
    points: int = Field(gt=0, description="At most this many points from the rule …")
    days: int = Field(gt=0, description="… within any window of this many days.")


class ScoringRule(Strict):
    id: str = Field(pattern=RULE_ID)
    description: str | None = None
    group: str | None = Field(
        None, description="Score group; behavior rules default to 'behavior', fit to 'fit'."
    )
    when: dict[str, Any]
    points: int = 0
    repeat: Literal["every", "once"] = "every"
    cap: Cap | None = None
    expires_after_days: int | None = Field(None, gt=0)
    disqualify: str | None = Field(
        None, description="Fit rules only: the status a matching lead is put in."
    )


class DecayRule(Strict):
    id: str = Field(pattern=RULE_ID)
    group: str = "behavior"
    percent: float = Field(gt=0, le=100)
    every_days: int = Field(gt=0)


class Scoring(Strict):
    groups: list[ScoreGroup] = Field(
        default_factory=lambda: [ScoreGroup(name="behavior"), ScoreGroup(name="fit")]
    )
    behavior: list[ScoringRule] = Field(default_factory=list)
    fit: list[ScoringRule] = Field(default_factory=list)
    decay: list[DecayRule] = Field(default_factory=list)


class Band(Strict):
    name: str = Field(pattern=RULE_ID)
    below: int | None = Field(
        None, description="Scores under this are in the band; the last band has none."
    )


class Temperature(Strict):
    bands: list[Band]


class LifecycleMove(Strict):
    """A move back down the lifecycle that the rules allow (stages otherwise only move forward)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    from_: str = Field(alias="from")
    to: str


class Lifecycle(Strict):
    mql_score: int = Field(100, description="A score at or above this makes the lead an MQL.")
    stages: list[str] = Field(
        default_factory=lambda: ["inquiry", "mql", "sql", "opportunity", "customer"],
        description="The lifecycle stages in order (リードステージ).",
    )
    backward: list[LifecycleMove] = Field(
        default_factory=list,
        description="Moves back to an earlier stage that are allowed (e.g. opportunity → sql).",
    )


class LevelRule(Strict):
    id: str = Field(pattern=RULE_ID)
    level: int = Field(ge=1, le=4)
    when: dict[str, Any]
    description: str | None = None


class ValidityRule(Strict):
    id: str = Field(pattern=RULE_ID)
    when: dict[str, Any] = Field(description="A valid lead meets every validity rule.")
    reason: str | None = None


class RoutingRule(Strict):
    id: str = Field(pattern=RULE_ID)
    when: dict[str, Any] | None = Field(
        None, description="No condition: the rule matches every lead."
    )
    team: str
    strategy: str = "round_robin"
    options: dict[str, Any] = Field(default_factory=dict)

    @field_validator("strategy")
    @classmethod
    def known_strategy(cls, value: str) -> str:
        if value not in ROUTING_STRATEGIES:
            raise ValueError(
                f"unknown strategy {value!r}; strategies are {', '.join(ROUTING_STRATEGIES)}"
            )
        return value


class Routing(Strict):
    regions: dict[str, list[str]] = Field(
        default_factory=dict, description="Business regions by prefecture."
    )
    rules: list[RoutingRule] = Field(default_factory=list)


class Deadline(Strict):
    stage: str
    hours: float = Field(gt=0)
    remind_before_hours: float = Field(4, ge=0)


class Cadence(Strict):
    first_touch_hours: float = Field(48, gt=0)
    deadlines: list[Deadline] = Field(default_factory=list)
    reply_grace_hours: float = Field(48, ge=0)
    remind_before_hours: float = Field(
        4, ge=0, description="A reminder this long before the first-touch deadline."
    )
    business_hours: bool = Field(
        False, description="Count durations on the business calendar, not the wall clock."
    )
    timezone: str = Field("Asia/Tokyo", description="The business calendar's time zone.")
    business_day_start: int = Field(9, ge=0, le=23)
    business_day_end: int = Field(18, ge=1, le=24)
    max_reassignments: int = Field(1, ge=0)
    recycle_team: str = Field(
        "マーケティング部", description="Where a lead recycled for no connect goes (nurture)."
    )


class ApproachRequest(Strict):
    id: str = Field(pattern=RULE_ID)
    when: dict[str, Any]
    subject: str
    due_hours: float = Field(48, gt=0)


class Status(Strict):
    name: str = Field(pattern=RULE_ID)
    type: Literal["open", "working", "nurture", "closed"]
    label_ja: str
    label_en: str
    reason_required: bool = False
    to: list[str] | None = Field(
        None, description="The statuses a lead may move to from this one; none: any."
    )


class Calendar(Strict):
    """The organisation's calendar: its language and when its fiscal year begins."""

    locale: Literal["ja", "en"] = Field(
        "ja",
        description="The organisation's language: how reports name fiscal periods "
        "(2026年度 第1四半期 / FY2026 Q1), and the default first month of the fiscal year.",
    )
    fiscal_year_start_month: int | None = Field(
        None,
        ge=1,
        le=12,
        description="The first month of the fiscal year (1-12); none: April when the locale is "
        "ja, January otherwise. A fiscal year is named after the calendar year it starts in.",
    )

    @property
    def fiscal_start(self) -> int:
        if self.fiscal_year_start_month is not None:
            return self.fiscal_year_start_month
        return 4 if self.locale == "ja" else 1


class TitleClass(Strict):
    name: str = Field(min_length=1, max_length=40, description="The class, e.g. 部長.")
    patterns: list[str] = Field(
        min_length=1,
        description="Regular expressions (Python syntax, case-insensitive) searched in the "
        "lead's title; a plain word is a substring. The first class that matches wins.",
    )


def _default_title_classes() -> list[TitleClass]:
    return [
        TitleClass(
            name="役員",
            patterns=[
                "役員",
                "取締役",
                "社長",
                "代表",
                "執行役",
                "会長",
                "CxO",
                r"\bC[A-Z]O\b",
                r"\bchief\b",
                r"\bpresident\b",
                r"\bVP\b",
                "vice president",
            ],
        ),
        TitleClass(name="部長", patterns=["部長", r"\bdirector\b", r"\bhead of\b"]),
        TitleClass(name="課長", patterns=["課長", "マネージャ", "マネジャ", r"\bmanager\b"]),
        TitleClass(name="係長/主任", patterns=["係長", "主任", "チーフ", r"\bsupervisor\b"]),
        TitleClass(
            name="担当",
            patterns=["担当", "スタッフ", "メンバー", r"\bstaff\b", r"\bassociate\b"],
        ),
    ]


class Segments(Strict):
    """How leads are put in segments for the lead list's filters and the reports' breakdowns."""

    title_classes: list[TitleClass] = Field(
        default_factory=_default_title_classes,
        description="Title classes (役職区分) in order; a title no class matches is 'other'.",
    )
    other_title: str = Field(
        "その他", min_length=1, max_length=40, description="The class of every other title."
    )
    employee_bands: list[int] = Field(
        default_factory=lambda: [10, 50, 300, 1000],
        description="Where employee bands end: [10, 50, 300, 1000] makes 1–9, 10–49, 50–299, "
        "300–999 and 1000+.",
    )


class RulesDocument(Strict):
    scoring: Scoring = Field(default_factory=Scoring)
    temperature: Temperature = Field(
        default_factory=lambda: Temperature(
            bands=[Band(name="cold", below=40), Band(name="warm", below=100), Band(name="hot")]
        )
    )
    lifecycle: Lifecycle = Field(default_factory=Lifecycle)
    levels: list[LevelRule] = Field(default_factory=list)
    validity: list[ValidityRule] = Field(default_factory=list)
    statuses: list[Status] = Field(default_factory=list)
    routing: Routing = Field(default_factory=Routing)
    cadence: Cadence = Field(default_factory=Cadence)
    approach_requests: list[ApproachRequest] = Field(default_factory=list)
    calendar: Calendar = Field(default_factory=Calendar)
    segments: Segments = Field(default_factory=Segments)
