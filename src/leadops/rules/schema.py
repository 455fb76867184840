"""The rules document: one YAML file, validated by these models, versioned in ``rules_versions``."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from leadops.models.opportunities import CLOSED_STAGES, DEFAULT_STAGES

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
    routing: Routing = Field(default_factory=Routing)
    cadence: Cadence = Field(default_factory=Cadence)
    approach_requests: list[ApproachRequest] = Field(default_factory=list)
    pipeline: Pipeline = Field(default_factory=Pipeline)
