"""The rules document: one YAML file, validated by these models, versioned in ``rules_versions``."""

from __future__ import annotations

from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator

from leadops.models.opportunities import CLOSED_STAGES, DEFAULT_STAGES

RULE_ID = r"^[a-z0-9][a-z0-9_\-]*$"
#: The channels of a touch (the cadence's ``CHANNELS``).
TOUCH_CHANNELS = ("call", "email", "voicemail", "sms", "social", "meeting")
#: The touch stages a playbook is for: the first touch (from untouched) is touch_1's.
PLAYBOOK_STAGES = ("touch_1", "touch_2", "touch_3", "touch_4")
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
    below: int | float | None = Field(
        None, description="Values under this are in the band; the last band has none."
    )


class Temperature(Strict):
    field: Literal["score", "prediction.probability"] = Field(
        "score",
        description="What the bands divide: the score, or the predictive model's probability "
        "(0–1; a lead without one is in the first band).",
    )
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


class Localized(Strict):
    """A text in Japanese and English; placeholders such as ``{last_name}`` are filled with the
    lead's values."""

    ja: str = Field(min_length=1, max_length=5000)
    en: str = Field(min_length=1, max_length=5000)


class Playbook(Strict):
    """What to do at one touch stage (seed 002): the channel, the template or script's name, and
    the e-mail to send."""

    stage: str = Field(description="touch_1 … touch_4: the touch this playbook is for.")
    channel: str
    template: str = Field(
        pattern=RULE_ID, max_length=100, description="The template's (or script's) name."
    )
    label: Localized | None = Field(None, description="What the rep does, in a line.")
    script: Localized | None = Field(None, description="What to say on the call or voicemail.")
    subject: Localized | None = None
    body: Localized | None = None

    @field_validator("stage")
    @classmethod
    def known_stage(cls, value: str) -> str:
        if value not in PLAYBOOK_STAGES:
            raise ValueError(f"expected one of {', '.join(PLAYBOOK_STAGES)}, got {value!r}")
        return value

    @field_validator("channel")
    @classmethod
    def known_channel(cls, value: str) -> str:
        if value not in TOUCH_CHANNELS:
            raise ValueError(f"unknown channel {value!r}; channels are {', '.join(TOUCH_CHANNELS)}")
        return value


class Status(Strict):
    name: str = Field(pattern=RULE_ID)
    type: Literal["open", "working", "nurture", "closed"]
    label_ja: str
    label_en: str
    reason_required: bool = False
    to: list[str] | None = Field(
        None, description="The statuses a lead may move to from this one; none: any."
    )


ConversionEvent = Literal[
    "assigned",
    "first_touch",
    "connected",
    "qualified",
    "appointment_booked",
    "won",
    "lost",
    "email_bounced",
    "unsubscribed",
]
#: What a status conversion may follow (docs/rules.md says when each happens).
CONVERSION_EVENTS: tuple[str, ...] = get_args(ConversionEvent)


class Conversion(Strict):
    """A status that follows the work (seed 000: ステータスのCV条件): after ``event``, a lead in
    one of the ``from`` statuses moves to ``to``, the rule named as the actor."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    id: str = Field(pattern=RULE_ID)
    event: ConversionEvent
    team_kind: Literal["marketing", "inside_sales", "sales"] | None = Field(
        None, description="For `assigned`: only a team of this kind."
    )
    from_: list[str] | None = Field(
        None, alias="from", description="Only from these statuses (left out: any status)."
    )
    to: str
    reason: str | None = Field(
        None,
        max_length=200,
        description="The status reason (default: the event's, e.g. a lost deal's, else the id).",
    )


class Reengagement(Strict):
    """A recycled (nurture) lead that shows new interest returns to sales (seed 000: リサイクル
    リードへのアプローチ): status ``to``, routed by the first routing rule to a team of
    ``team_kind``, an approach request, a new cadence."""

    to: str = Field("lead", description="The status a re-engaged lead returns to.")
    team_kind: Literal["inside_sales", "sales"] = "inside_sales"
    when: dict[str, Any] | None = Field(
        None, description="An arriving activity that re-engages the lead (a new inquiry)."
    )
    score_rise: int | None = Field(
        10, gt=0, description="Or: the score rose at least this much within `rise_hours`."
    )
    rise_hours: float = Field(24, gt=0)
    level: int | None = Field(
        2, ge=1, le=4, description="Or: an activity that meets a level rule of this level or more."
    )
    subject: str = Field(
        "再エンゲージ（リサイクルからの復帰）",
        max_length=300,
        description="The approach request's.",
    )
    due_hours: float = Field(48, gt=0)


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


class Pipeline(Strict):
    """The opportunity pipeline (seed 003): the stages in order, ending with the closed ones."""

    stages: list[str] = Field(
        default_factory=lambda: list(DEFAULT_STAGES),
        description="The stages of an opportunity in order; won and lost close it.",
    )

    @field_validator("stages")
    @classmethod
    def _closed_stages_present(cls, stages: list[str]) -> list[str]:
        missing = [s for s in CLOSED_STAGES if s not in stages]
        if missing:
            raise ValueError(f"the pipeline needs the closed stages {', '.join(missing)}")
        twice = sorted({s for s in stages if stages.count(s) > 1})
        if twice:
            raise ValueError(f"stages listed twice: {', '.join(twice)}")
        if all(s in CLOSED_STAGES for s in stages):
            raise ValueError("the pipeline needs at least one open stage")
        return stages


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
    reengagement: Reengagement | None = Field(
        None, description="Recycled leads that come back (left out: they stay in nurture)."
    )
    conversions: list[Conversion] = Field(
        default_factory=list, description="Status conversions, the first that applies wins."
    )
    routing: Routing = Field(default_factory=Routing)
    cadence: Cadence = Field(default_factory=Cadence)
    approach_requests: list[ApproachRequest] = Field(default_factory=list)
    playbooks: list[Playbook] = Field(default_factory=list)
    calendar: Calendar = Field(default_factory=Calendar)
    segments: Segments = Field(default_factory=Segments)
    pipeline: Pipeline = Field(default_factory=Pipeline)
