"""The dashboard's numbers: per person, today's and this month's touches, connects and
appointments (days and months in the organisation's time zone), with the month's targets of their
quotas (``cadence.quotas``). Counted as the ``kpis`` report counts them: a connect is a touch
connected or replied, an appointment an opportunity created with the person as its SDR; a quota's
month is a calendar month (the fiscal calendar shifts only quarters and years). Today's target is
the month's target shared out over the month's business days (weekdays that are not Japanese public
holidays, the cadence's calendar), so a business day asks for target ÷ business days."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadops.cadence.quotas import list_quotas, month_after
from leadops.lifecycle.machine import CONNECTING
from leadops.models import Opportunity, Touch
from leadops.reports.base import rate
from leadops.rules.calendar import is_business_day

MEASURES = ("touches", "connects", "appointments")


@dataclass
class Tally:
    """One person's (or a team's) counts in a day and in a month, and the month's targets (None:
    no target set)."""

    user_id: int | None
    name: str
    today: Counter[str] = field(default_factory=Counter)
    month: Counter[str] = field(default_factory=Counter)
    targets: dict[str, float | None] = field(default_factory=dict)
    #: The month's business days: today's target is the month's divided by them.
    business_days: int = 1

    def attainment(self, measure: str) -> float | None:
        """This month's count ÷ its target; None without a target (or with a target of 0)."""
        target = self.targets.get(measure)
        return rate(self.month[measure], target) if target else None

    def daily_target(self, measure: str) -> float | None:
        """Today's share of the month's target: the target ÷ the month's business days."""
        target = self.targets.get(measure)
        return target / max(self.business_days, 1) if target is not None else None

    def today_attainment(self, measure: str) -> float | None:
        target = self.daily_target(measure)
        return rate(self.today[measure], target) if target else None


@dataclass(frozen=True)
class Window:
    day: date
    month: date
    start: datetime
    end: datetime
    today_start: datetime
    #: The month's business days, and whether today is one.
    business_days: int = 0
    business_today: bool = True


def business_days(first: date, after: date) -> int:
    """The business days from ``first`` up to ``after`` (exclusive)."""
    days = (after - first).days
    return sum(is_business_day(first + timedelta(days=n)) for n in range(days))


def window_of(now: datetime, tz: tzinfo) -> Window:
    """Today and this month in ``tz``: the month's first moment, its end and today's start."""
    today = now.astimezone(tz).date()
    first = today.replace(day=1)
    after = month_after(first)

    def moment(d: date) -> datetime:
        return datetime(d.year, d.month, d.day, tzinfo=tz)

    return Window(
        today,
        first,
        moment(first),
        moment(after),
        moment(today),
        business_days(first, after),
        is_business_day(today),
    )


def _counts(
    session: Session, ids: Sequence[int], window: Window
) -> dict[int, tuple[Counter[str], Counter[str]]]:
    out = {i: (Counter[str](), Counter[str]()) for i in ids}
    touches = select(Touch.user_id, Touch.at, Touch.outcome).where(
        Touch.user_id.in_(ids), Touch.at >= window.start, Touch.at < window.end
    )
    booked = select(Opportunity.sdr_id, Opportunity.created_at).where(
        Opportunity.sdr_id.in_(ids),
        Opportunity.created_at >= window.start,
        Opportunity.created_at < window.end,
    )
    tomorrow = window.today_start + timedelta(days=1)

    def add(user: int | None, at: datetime, measure: str) -> None:
        if user is None:
            return
        today, month = out[user]
        month[measure] += 1
        if window.today_start <= at < tomorrow:
            today[measure] += 1

    for user, at, outcome in session.execute(touches):
        add(user, at, "touches")
        if outcome in CONNECTING:
            add(user, at, "connects")
    for user, at in session.execute(booked):
        add(user, at, "appointments")
    return out


def _targets(quota: dict[str, object] | None) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for measure in MEASURES:
        value = quota.get(measure) if quota else None
        out[measure] = float(value) if isinstance(value, int | float) else None
    return out


def _team_targets(
    quotas: Sequence[dict[str, object]], team_ids: Sequence[int], tallies: Sequence[Tally]
) -> dict[str, float | None]:
    """Per measure: the teams' own targets if any team has one, else the sum of the members'."""
    teams = [_targets(q) for q in quotas if q["subject"] == "team" and q["team_id"] in team_ids]
    out: dict[str, float | None] = {}
    for measure in MEASURES:
        given = [v for t in teams if (v := t[measure]) is not None] or [
            v for t in tallies if (v := t.targets.get(measure)) is not None
        ]
        out[measure] = sum(given) if given else None
    return out


def dashboard(
    session: Session,
    people: Sequence[tuple[int, str]],
    *,
    now: datetime,
    tz: tzinfo,
    team_ids: Sequence[int] = (),
) -> tuple[Window, list[Tally], Tally | None]:
    """Each of ``people`` (id, name) with their counts and targets; with ``team_ids``, also the
    total: the teams' own quotas as its target if any is set, else the sum of the members'."""
    window = window_of(now, tz)
    quotas = list_quotas(session, start=window.month, end=month_after(window.month))
    mine = {q["user_id"]: q for q in quotas if q["user_id"] is not None}
    counts = _counts(session, [i for i, _ in people], window)
    days = window.business_days
    tallies = [
        Tally(i, name, *counts[i], targets=_targets(mine.get(i)), business_days=days)
        for i, name in people
    ]
    if not team_ids:
        return window, tallies, None
    total = Tally(None, "", business_days=days)
    for tally in tallies:
        total.today.update(tally.today)
        total.month.update(tally.month)
    total.targets = _team_targets(quotas, team_ids, tallies)
    return window, tallies, total
