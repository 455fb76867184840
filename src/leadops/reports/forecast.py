"""The forecast of this month's appointments (seed 000), learned from the history, with its
backtest.

expected = booked so far
         + Σ over open leads of P(appointment before month end | status, touch stage, days since
         assignment) + the appointments expected from leads that do not exist yet

Each probability is learned from the same day of earlier months: for each of the previous months,
the leads that were open as that day began, in the state they had then, and whether they booked an
appointment before that month ended. The learned model is stored for the day (the worker learns it),
and today's open leads are read from the leads table as they stand. Sparse states borrow from
coarser ones (status and touch stage, then status, then all leads). The interval treats each lead as
its own coin (the sum of Bernoulli variables), adds how far earlier months strayed from their
learned probabilities and how much the not-yet-created leads' appointments varied between months,
and takes a normal approximation.
"""

from __future__ import annotations

import bisect
import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import case, delete, func, literal, or_, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from leadops.db import writer_of
from leadops.models import ForecastModel, Lead, LeadEvent, Opportunity
from leadops.models.base import UTCDateTime
from leadops.reports.base import N_, ReportParams, ReportResult, day_start, report
from leadops.reports.facts import first_appointments, utc_moment
from leadops.rules.service import active_rules

#: How many earlier months teach the probabilities.
TRAINING_MONTHS = 6
#: Days since assignment, bucketed (upper bounds, inclusive).
AGE_BUCKETS = (2, 7, 14, 30, 60)
#: How strongly a sparse state leans on its coarser parent (pseudo-observations).
PRIOR_WEIGHT = 10.0
#: z for a two-sided 80 % interval.
Z80 = 1.2816
BACKTEST_DAYS = (1, 10, 20)


#: (status, touch stage, days-since-assignment bucket)
State = tuple[str, str, str]


def _age_bucket(days: float) -> str:
    low = 0
    for high in AGE_BUCKETS:
        if days <= high:
            return f"{low}-{high}d"
        low = high + 1
    return f"{low}+d"


@dataclass
class Timeline:
    created_at: datetime
    assigned_at: datetime | None = None
    appointment_at: datetime | None = None
    status_at: list[datetime] = field(default_factory=list)
    status: list[str] = field(default_factory=list)
    stage_at: list[datetime] = field(default_factory=list)
    stage: list[str] = field(default_factory=list)
    first_status: str = "new"
    #: From this moment on the lead is closed for good (its last status change was to a closed
    #: status).
    closed_for_good_at: datetime | None = None

    def gone(self, at: datetime) -> bool:
        """Cheaply: not open at ``at`` for a reason that lasts (booked before, or closed for
        good)."""
        return (self.appointment_at is not None and self.appointment_at < at) or (
            self.closed_for_good_at is not None and self.closed_for_good_at <= at
        )

    def state(self, at: datetime, closed: frozenset[str]) -> tuple[str, str, str] | None:
        """(status, touch stage, age bucket) at ``at``; None when the lead was not open then."""
        if self.created_at > at or (self.appointment_at is not None and self.appointment_at < at):
            return None
        i = bisect.bisect_right(self.status_at, at)
        status = self.status[i - 1] if i else self.first_status
        if status in closed:
            return None
        j = bisect.bisect_right(self.stage_at, at)
        stage = self.stage[j - 1] if j else "untouched"
        since = (
            self.assigned_at
            if self.assigned_at is not None and self.assigned_at <= at
            else self.created_at
        )
        return status, stage, _age_bucket((at - since).total_seconds() / 86400)


class History:
    """Every lead's status, touch stage, first assignment and first appointment over time."""

    def __init__(self, session: Session, closed: frozenset[str]) -> None:
        self.closed = closed
        self.leads: dict[int, Timeline] = {
            lead_id: Timeline(created, first_status=status)
            for lead_id, created, status in session.execute(
                select(Lead.id, Lead.created_at, Lead.status).where(Lead.merged_into_id.is_(None))
            )
        }
        events = session.execute(
            select(
                LeadEvent.lead_id,
                LeadEvent.kind,
                LeadEvent.at,
                LeadEvent.from_value,
                LeadEvent.to_value,
            )
            .where(LeadEvent.kind.in_(("status", "touch_stage", "owner")))
            .order_by(LeadEvent.at, LeadEvent.id)
        )
        for lead_id, kind, at, before, after in events:
            t = self.leads.get(lead_id)
            if t is None:
                continue
            if kind == "status":
                if not t.status:
                    t.first_status = before or "new"
                t.status_at.append(at)
                t.status.append(after or "new")
            elif kind == "touch_stage":
                t.stage_at.append(at)
                t.stage.append(after or "untouched")
            elif t.assigned_at is None and after:
                t.assigned_at = at
        for opp_lead, created in session.execute(
            select(Opportunity.lead_id, Opportunity.created_at).where(
                Opportunity.lead_id.isnot(None)
            )
        ):
            t = self.leads.get(opp_lead) if opp_lead is not None else None
            if t is not None and (t.appointment_at is None or created < t.appointment_at):
                t.appointment_at = created
        for t in self.leads.values():
            final = t.status[-1] if t.status else t.first_status
            if final in closed:
                t.closed_for_good_at = t.status_at[-1] if t.status_at else t.created_at
        self.by_created = sorted(self.leads.values(), key=lambda t: t.created_at)
        self.created = [t.created_at for t in self.by_created]
        #: (appointment, creation) of every booked lead, by appointment time.
        self.booked = sorted(
            (t.appointment_at, t.created_at) for t in self.leads.values() if t.appointment_at
        )
        self.appointments = [at for at, _ in self.booked]

    def count_appointments(self, start: datetime, end: datetime) -> int:
        return bisect.bisect_left(self.appointments, end) - bisect.bisect_left(
            self.appointments, start
        )

    def booked_by_leads_created_after(self, at: datetime, end: datetime) -> int:
        """Appointments in [at, end) of leads created after ``at``."""
        first, last = (
            bisect.bisect_left(self.appointments, at),
            bisect.bisect_left(self.appointments, end),
        )
        return sum(1 for _, created in self.booked[first:last] if created > at)

    def open_states(self, at: datetime) -> Iterable[tuple[Timeline, tuple[str, str, str]]]:
        for t in self.by_created[: bisect.bisect_right(self.created, at)]:
            if t.gone(at):
                continue
            state = t.state(at, self.closed)
            if state is not None:
                yield t, state


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def previous_month(day: date) -> date:
    return (day.replace(day=1) - timedelta(days=1)).replace(day=1)


@dataclass
class Model:
    """Appointment probabilities by state, learned from earlier months on the same day of the
    month."""

    counts: dict[tuple[str, ...], list[int]]
    #: Per training month: appointments before month end from leads created after the snapshot.
    new_lead_counts: list[int]
    #: Per training month: what the learned probabilities expected of that month's open leads, and
    #: what came.
    month_fit: list[tuple[float, int]] = field(default_factory=list)

    @property
    def months(self) -> int:
        return len(self.new_lead_counts)

    @property
    def new_leads(self) -> float:
        return statistics.fmean(self.new_lead_counts) if self.new_lead_counts else 0.0

    @property
    def new_leads_variance(self) -> float:
        if len(self.new_lead_counts) < 2:
            return self.new_leads  # a Poisson count
        return max(statistics.variance(self.new_lead_counts), self.new_leads)

    @property
    def relative_spread(self) -> float:
        """How far the open leads' outcome strayed from the probabilities, month to month (a
        ratio's sd)."""
        ratios = [actual / expected for expected, actual in self.month_fit if expected > 0]
        return statistics.stdev(ratios) if len(ratios) >= 2 else 0.0

    def to_json(self) -> dict[str, object]:
        return {
            "counts": [[list(key), k, n] for key, (k, n) in sorted(self.counts.items())],
            "new_lead_counts": self.new_lead_counts,
            "month_fit": [list(fit) for fit in self.month_fit],
        }

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Model:
        return cls(
            {tuple(key): [int(k), int(n)] for key, k, n in body["counts"]},
            list(body["new_lead_counts"]),
            [(float(e), int(a)) for e, a in body["month_fit"]],
        )

    def probability(self, state: tuple[str, ...]) -> float:
        k, n = self.counts.get((), (0, 0))
        if not n:
            return 0.0
        p = k / n
        for depth in (1, 2, 3):
            k, n = self.counts.get(state[:depth], (0, 0))
            p = (k + PRIOR_WEIGHT * p) / (n + PRIOR_WEIGHT)
        return p


def learn(history: History, at: datetime, tz: ZoneInfo) -> Model:
    """Train on up to TRAINING_MONTHS months before the month of ``at`` (only what was known by
    ``at``), at the start of the same day of the month (the last day, in a shorter month); a month
    with no open lead then (before the history begins) teaches nothing."""
    local = at.astimezone(tz)
    offset = timedelta(days=local.day - 1)  # the same day of the month, as it began
    counts: dict[tuple[str, ...], list[int]] = defaultdict(lambda: [0, 0])
    new_lead_counts: list[int] = []
    per_month: list[tuple[Counter[tuple[str, str, str]], int]] = []
    month = previous_month(local.date())
    for _ in range(TRAINING_MONTHS):
        start = day_start(month, tz)
        end = day_start(next_month(month), tz)
        snapshot = min(start + offset, end - timedelta(seconds=1))
        states: Counter[tuple[str, str, str]] = Counter()
        booked_open = 0
        for t, state in history.open_states(snapshot):
            booked = t.appointment_at is not None and snapshot <= t.appointment_at < end
            states[state] += 1
            booked_open += booked
            for key in ((), state[:1], state[:2], state):
                cell = counts[key]
                cell[0] += booked
                cell[1] += 1
        if not states:
            break
        per_month.append((states, booked_open))
        new_lead_counts.append(history.booked_by_leads_created_after(snapshot, end))
        month = previous_month(month)
    model = Model(dict(counts), new_lead_counts)
    model.month_fit = [
        (sum(model.probability(s) * n for s, n in states.items()), booked)
        for states, booked in per_month
    ]
    return model


@dataclass
class Forecast:
    month: str
    at: datetime
    booked: int
    open_leads: int
    from_open_leads: float
    from_new_leads: float
    low: float
    high: float
    training_months: int
    by_state: list[list[object]]

    @property
    def expected(self) -> float:
        return self.booked + self.from_open_leads + self.from_new_leads


def forecast_at(history: History, at: datetime, tz: ZoneInfo) -> Forecast:
    """The forecast made at ``at`` from the replayed history (the backtest's, and any past
    moment's)."""
    start = day_start(month_start(at.astimezone(tz).date()), tz)
    states = Counter(state for _, state in history.open_states(at))
    return forecast_from(
        learn(history, at, tz), at, tz, history.count_appointments(start, at), states
    )


def forecast_from(
    model: Model, at: datetime, tz: ZoneInfo, booked: int, states: Counter[State]
) -> Forecast:
    """Booked so far + each open state's leads × its learned probability + the new leads' term."""
    expected = variance = 0.0
    by_state = []
    for state, n in states.items():
        p = model.probability(state)
        expected += n * p
        variance += n * p * (1 - p)
        by_state.append([*state, n, round(p, 4), round(n * p, 2)])
    by_state.sort(key=lambda row: (-cast(float, row[5]), row[:3]))
    variance += model.new_leads_variance + (model.relative_spread * expected) ** 2
    spread = Z80 * math.sqrt(variance)
    total = booked + expected + model.new_leads
    return Forecast(
        f"{at.astimezone(tz):%Y-%m}",
        at,
        booked,
        sum(states.values()),
        expected,
        model.new_leads,
        max(float(booked), total - spread),
        total + spread,
        model.months,
        by_state,
    )


def backtest(history: History, now: datetime, tz: ZoneInfo) -> list[list[object]]:
    """Forecasts made on day 1, 10 and 20 of each past month (with only what was known then) against
    the month's actual appointments."""
    if not history.created:
        return []
    first_day = history.created[0].astimezone(tz).date()
    first_full = first_day if first_day.day == 1 else next_month(first_day)
    month = next_month(first_full)  # at least one whole month of history before the first forecast
    this_month = month_start(now.astimezone(tz).date())
    rows: list[list[object]] = []
    while month < this_month:
        start, end = day_start(month, tz), day_start(next_month(month), tz)
        actual = history.count_appointments(start, end)
        for day in BACKTEST_DAYS:
            f = forecast_at(history, start + timedelta(days=day - 1), tz)
            error = abs(f.expected - actual) / actual if actual else None
            rows.append(
                [
                    f.month,
                    day,
                    f.booked,
                    round(f.expected, 1),
                    round(f.low, 1),
                    round(f.high, 1),
                    actual,
                    round(error, 4) if error is not None else None,
                    f.low <= actual <= f.high,
                ]
            )
        month = next_month(month)
    return rows


#: Bumped when what a stored model means changes (its states, its training), so old ones are not
#: used.
MODEL_FORMAT = 1
#: Stored models older than this are deleted when a new one is stored.
KEEP_MODELS = timedelta(days=7)
_KINDS = ("status", "touch_stage", "owner")


def present_states(
    session: Session, at: datetime, tz: ZoneInfo, closed: frozenset[str]
) -> tuple[int, Counter[State]] | None:
    """(appointments booked this month up to ``at``, open leads per state at ``at``) read from the
    leads as they stand — when no lead was created, changed status or touch stage, or booked after
    ``at`` (else None: the tables do not describe ``at``; an assignment later than ``at`` is read as
    not yet made)."""
    later = [
        select(LeadEvent.id)
        .where(LeadEvent.kind.in_(("status", "touch_stage")), LeadEvent.at > at)
        .limit(1),
        select(Lead.id).where(Lead.created_at > at).limit(1),
        select(Opportunity.id).where(Opportunity.created_at > at).limit(1),
    ]
    if any(session.execute(statement).first() is not None for statement in later):
        return None
    start = day_start(month_start(at.astimezone(tz).date()), tz)
    first = first_appointments()
    live = Lead.merged_into_id.is_(None)
    booked = session.execute(
        select(func.count())
        .select_from(first)
        .join(Lead, Lead.id == first.c.lead_id)
        .where(live, first.c.at >= start, first.c.at < at)
    ).scalar_one()
    assigned = (
        select(LeadEvent.lead_id, func.min(LeadEvent.at).label("at"))
        .where(LeadEvent.kind == "owner", LeadEvent.to_value.isnot(None), LeadEvent.to_value != "")
        .group_by(LeadEvent.lead_id)
        .subquery("first_owner")
    )
    since = utc_moment(case((assigned.c.at <= at, assigned.c.at), else_=Lead.created_at))
    low, whens = 0, []
    for high in AGE_BUCKETS:  # days ≤ high  ⇔  since ≥ at − high days
        whens.append((since >= literal(at - timedelta(days=high), UTCDateTime()), f"{low}-{high}d"))
        low = high + 1
    age = case(*whens, else_=f"{low}+d")
    rows = session.execute(
        select(Lead.status, Lead.touch_stage, age, func.count())
        .outerjoin(assigned, assigned.c.lead_id == Lead.id)
        .outerjoin(first, first.c.lead_id == Lead.id)
        .where(
            live,
            Lead.created_at <= at,
            Lead.status.notin_(sorted(closed)) if closed else true(),
            or_(first.c.at.is_(None), first.c.at >= at),
        )
        .group_by(Lead.status, Lead.touch_stage, age)
    ).all()
    return int(booked), Counter(
        {(status, stage or "untouched", bucket): n for status, stage, bucket, n in rows}
    )


def _model_key(session: Session, at: datetime, tz: ZoneInfo, closed: frozenset[str]) -> str:
    """What a model learned at ``at`` depends on: the day, the zone, the closed statuses, and the
    history before this month (rows counted by time; anything added or merged there changes the
    key)."""
    local = at.astimezone(tz)
    before = day_start(month_start(local.date()), tz)
    counts = [
        session.execute(
            select(func.count()).where(LeadEvent.kind.in_(_KINDS), LeadEvent.at < before)
        ).scalar_one(),
        session.execute(select(func.count()).where(Opportunity.created_at < before)).scalar_one(),
        session.execute(select(func.count()).where(Lead.created_at < before)).scalar_one(),
        session.execute(select(func.count()).where(Lead.merged_into_id.isnot(None))).scalar_one(),
    ]
    return (
        f"{MODEL_FORMAT}|{local.date().isoformat()}|{tz.key}|{','.join(sorted(closed))}|"
        f"{'.'.join(str(c) for c in counts)}"
    )


def stored_model(
    session: Session, at: datetime, tz: ZoneInfo, closed: frozenset[str]
) -> tuple[Model, bool]:
    """The model for ``at``'s day: the stored one if the history it learned from is unchanged, else
    learned now (replaying the history) and stored for the next forecast of the day. The worker
    calls this every sweep, so that the day's first forecast finds its model ready. Returns (model,
    learned)."""
    key = _model_key(session, at, tz, closed)
    body = session.execute(
        select(ForecastModel.body).where(ForecastModel.key == key)
    ).scalar_one_or_none()
    if body is not None:
        return Model.from_json(body), False
    model = learn(History(session, closed), at, tz)
    _store(session, key, model, at)
    return model, True


def _store(session: Session, key: str, model: Model, at: datetime) -> None:
    """In its own transaction, so that a report stays a read (on the primary when the report reads
    a replica); a concurrent forecast storing the same key first is fine (the models are the
    same)."""
    try:
        with Session(writer_of(session)) as own, own.begin():
            own.execute(delete(ForecastModel).where(ForecastModel.computed_at < at - KEEP_MODELS))
            own.add(ForecastModel(key=key, computed_at=at, body=model.to_json()))
    except IntegrityError:
        pass


@report(
    "forecast",
    "appointments expected this month: booked + open leads' learned probabilities; 80 % interval",
)
def forecast(session: Session, params: ReportParams) -> ReportResult:
    now = params.moment
    rules = active_rules(session, now)
    closed = rules.closed_statuses
    present = None if params.backtest else present_states(session, now, params.tz, closed)
    history = None
    if present is None:  # as of a past moment, or a backtest: replay the history
        history = History(session, closed)
        f = forecast_at(history, now, params.tz)
    else:
        model, _ = stored_model(session, now, params.tz, closed)
        f = forecast_from(model, now, params.tz, *present)
    rows = [
        [
            f.month,
            f.at,
            f.booked,
            f.open_leads,
            round(f.from_open_leads, 2),
            round(f.from_new_leads, 2),
            round(f.expected, 1),
            round(f.low, 1),
            round(f.high, 1),
            f.training_months,
        ]
    ]
    sections: dict[str, dict[str, object]] = {
        "by_state": {
            "columns": [
                "status",
                "touch_stage",
                "days_since_assignment",
                "open_leads",
                "probability",
                "expected",
            ],
            "rows": f.by_state,
        },
    }
    notes = []
    if f.training_months == 0:
        notes.append("no earlier month to learn from: open leads count at the overall rate only")
    if params.backtest:
        assert history is not None
        rows_bt = backtest(history, now, params.tz)
        sections["backtest"] = {
            "columns": [
                "month",
                "day",
                "booked_then",
                "forecast",
                "low",
                "high",
                "actual",
                "abs_pct_error",
                "within_interval",
            ],
            "rows": rows_bt,
        }
        errors_by_day: dict[int, list[float]] = defaultdict(list)
        for row in rows_bt:
            if row[7] is not None:
                errors_by_day[cast(int, row[1])].append(cast(float, row[7]))
        every = [e for values in errors_by_day.values() for e in values]
        covered = Counter(bool(row[8]) for row in rows_bt)
        sections["backtest_mape"] = {
            "columns": ["day", "forecasts", "mape"],
            "rows": [
                [
                    day,
                    len(errors_by_day[day]),
                    round(sum(errors_by_day[day]) / len(errors_by_day[day]), 4),
                ]
                for day in BACKTEST_DAYS
                if errors_by_day[day]
            ]
            + ([["all", len(every), round(sum(every) / len(every), 4)]] if every else []),
        }
        if rows_bt:
            notes.append(
                f"actual within the 80 % interval in {covered[True]} of {len(rows_bt)} backtest "
                "forecasts"
            )
    return ReportResult(
        "forecast",
        [
            "month",
            "as_of",
            "booked",
            "open_leads",
            "from_open_leads",
            "from_new_leads",
            "expected",
            "low_80",
            "high_80",
            "training_months",
        ],
        rows,
        N_(
            "Appointments (a lead's first opportunity) expected in the current month: those "
            "booked since the month began, plus for each open lead (created, not in a closed "
            "status, no appointment yet) the probability of one before the month ends, learned "
            "from the previous six months on the same day of the month by status, touch stage and "
            "days since assignment, plus the appointments that leads created later in those "
            "months booked before month end (on average). 80 % interval: normal approximation of "
            "the sum. --backtest replays the forecast on day 1, 10 and 20 of each past month with "
            "only what was known then, against the month's actual count, with the mean absolute "
            "percentage error."
        ),
        notes=notes,
        sections=sections,
    )
