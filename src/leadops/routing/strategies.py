"""Choosing the person within a team: pure functions of plain values, kept in a table by name.

Every strategy first drops the people who cannot take a lead now (inactive, out of office, at
capacity), saying why for each; when nobody is left, the lead goes to the team manager's queue
(the caller notifies the manager) — never to nobody.

Round-robin fairness (``round_robin``) is smooth weighted round robin: at each lead every eligible
rep earns its weight in credit, the rep with the most credit is chosen and pays the total weight of
the eligible reps. A rep's credit divided by that total is exactly how far it is behind (+) or ahead
(−) of its weighted share. A rep who was not eligible (out of office, new, at capacity) simply earns
nothing meanwhile and re-enters with the credit it had, never more: it is not paid back for the time
away, so it is not flooded on return. The promise: while the eligible reps and their weights stay
the same, each rep's count of assignments stays within one of its weighted share of them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Candidate:
    user_id: int
    active: bool = True
    weight: float = 1.0
    capacity: int | None = None
    open_leads: int = 0
    away: Sequence[tuple[datetime, datetime]] = ()
    won: int = 0
    lost: int = 0
    round_robin_credit: float = 0.0  # see round_robin


@dataclass(frozen=True)
class LeadFacts:
    employees: int | None = None
    score: int = 0
    account_owner_id: int | None = None
    fields: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Choice:
    user_id: int | None  # None: the manager's queue
    reason: str
    skipped: dict[int, str] = field(default_factory=dict)
    credits: dict[int, float] = field(default_factory=dict)  # round-robin state to store

    @property
    def to_manager(self) -> bool:
        return self.user_id is None


def eligible(
    candidates: Sequence[Candidate], at: datetime
) -> tuple[list[Candidate], dict[int, str]]:
    """The people who can take a lead at ``at``, and why each other one cannot."""
    ok: list[Candidate] = []
    skipped: dict[int, str] = {}
    for c in candidates:
        if not c.active:
            skipped[c.user_id] = "inactive"
        elif any(start <= at < end for start, end in c.away):
            skipped[c.user_id] = "out of office"
        elif c.weight <= 0:
            skipped[c.user_id] = "routing weight 0"
        elif c.capacity is not None and c.open_leads >= c.capacity:
            skipped[c.user_id] = f"at capacity ({c.open_leads}/{c.capacity})"
        else:
            ok.append(c)
    return ok, skipped


def round_robin(
    pool: Sequence[Candidate], lead: LeadFacts, options: Mapping[str, Any]
) -> tuple[Candidate, str, dict[int, float]]:
    """Smooth weighted round robin: every eligible rep earns its weight in credit, the richest is
    chosen and pays the total weight of the eligible reps."""
    total = sum(c.weight for c in pool)
    credits = {c.user_id: c.round_robin_credit for c in pool}
    for c in pool:
        credits[c.user_id] += c.weight
    chosen = max(pool, key=lambda c: (credits[c.user_id], c.weight, -c.user_id))
    credits[chosen.user_id] -= total
    return chosen, f"round robin (weight {chosen.weight:g})", credits


def least_loaded(
    pool: Sequence[Candidate], lead: LeadFacts, options: Mapping[str, Any]
) -> tuple[Candidate, str, dict[int, float]]:
    def load(c: Candidate) -> float:
        return c.open_leads / c.capacity if c.capacity else float(c.open_leads)

    chosen = min(pool, key=lambda c: (load(c), c.user_id))
    return (
        chosen,
        f"least loaded ({chosen.open_leads} open / capacity {chosen.capacity or '∞'})",
        {},
    )


def _bands(
    pool: Sequence[Candidate], value: float | None, options: Mapping[str, Any], what: str
) -> tuple[Candidate, str, dict[int, float]]:
    """``options.bands``: [{max: 10, user: ID}, {min: 11, max: 50, user: ID}, {min: 51, user:
    ID}]."""
    by_id = {c.user_id: c for c in pool}
    if value is not None:
        for band in options.get("bands", []):
            low, high = band.get("min"), band.get("max")
            if (
                (low is None or value >= low)
                and (high is None or value <= high)
                and band.get("user") in by_id
            ):
                return (
                    by_id[band["user"]],
                    f"{what} {value:g} in band "
                    f"{low if low is not None else ''}–{high if high is not None else ''}",
                    {},
                )
    chosen, reason, passes = round_robin(pool, LeadFacts(), options)
    return chosen, f"no {what} band for {value!r} with an eligible rep: {reason}", passes


def by_field(
    pool: Sequence[Candidate], lead: LeadFacts, options: Mapping[str, Any]
) -> tuple[Candidate, str, dict[int, float]]:
    name = options.get("field", "account.employees")
    value = lead.employees if name == "account.employees" else lead.fields.get(name)
    number = float(value) if isinstance(value, int | float) else None
    return _bands(pool, number, options, name)


def by_score(
    pool: Sequence[Candidate], lead: LeadFacts, options: Mapping[str, Any]
) -> tuple[Candidate, str, dict[int, float]]:
    return _bands(pool, float(lead.score), options, "score")


def by_win_rate(
    pool: Sequence[Candidate], lead: LeadFacts, options: Mapping[str, Any]
) -> tuple[Candidate, str, dict[int, float]]:
    """The best win rate among reps with at least ``min_closed`` (default 10) closed deals; else
    round robin."""
    minimum = int(options.get("min_closed", 10))
    rated = [c for c in pool if c.won + c.lost >= minimum]
    if not rated:
        chosen, reason, passes = round_robin(pool, lead, options)
        return chosen, f"nobody has {minimum} closed deals yet: {reason}", passes
    chosen = max(rated, key=lambda c: (c.won / (c.won + c.lost), c.won + c.lost, -c.user_id))
    rate = chosen.won / (chosen.won + chosen.lost)
    return chosen, f"best win rate {rate:.0%} over {chosen.won + chosen.lost} closed deals", {}


def account_owner(
    pool: Sequence[Candidate], lead: LeadFacts, options: Mapping[str, Any]
) -> tuple[Candidate, str, dict[int, float]]:
    """The owner of the lead's company (or of its open opportunity); else round robin."""
    owner = next((c for c in pool if c.user_id == lead.account_owner_id), None)
    if owner is not None:
        return owner, "owner of the account (one company, one owner)", {}
    chosen, reason, passes = round_robin(pool, lead, options)
    return chosen, f"the account has no eligible owner: {reason}", passes


Strategy = Callable[
    [Sequence[Candidate], LeadFacts, Mapping[str, Any]], tuple[Candidate, str, dict[int, float]]
]

STRATEGIES: dict[str, Strategy] = {
    "round_robin": round_robin,
    "least_loaded": least_loaded,
    "by_field": by_field,
    "by_score": by_score,
    "by_win_rate": by_win_rate,
    "account_owner": account_owner,
}


def choose(
    strategy: str,
    candidates: Sequence[Candidate],
    lead: LeadFacts,
    at: datetime,
    options: Mapping[str, Any] | None = None,
) -> Choice:
    """Pick the person for a lead, or the manager's queue when nobody can take it."""
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; strategies are {', '.join(STRATEGIES)}")
    pool, skipped = eligible(candidates, at)
    if not pool:
        return Choice(None, "nobody in the team can take it now: the manager's queue", skipped)
    chosen, reason, credits = STRATEGIES[strategy](pool, lead, options or {})
    return Choice(chosen.user_id, reason, skipped, credits)


def with_credit(candidate: Candidate, credits: Mapping[int, float]) -> Candidate:
    """The candidate after a choice: its round-robin credit as the choice left it."""
    return replace(
        candidate, round_robin_credit=credits.get(candidate.user_id, candidate.round_robin_credit)
    )
