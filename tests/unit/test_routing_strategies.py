"""Routing strategies on their own: fair round robin, least loaded, bands, win rate, account
owner."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from leadops.routing.strategies import Candidate, LeadFacts, choose, with_credit

AT = datetime(2026, 11, 23, 10, tzinfo=UTC)


def run(
    candidates: list[Candidate], n: int, at: datetime = AT
) -> tuple[Counter[int], list[Candidate]]:
    counts: Counter[int] = Counter()
    for _ in range(n):
        choice = choose("round_robin", candidates, LeadFacts(), at)
        assert choice.user_id is not None
        counts[choice.user_id] += 1
        candidates = [with_credit(c, choice.credits) for c in candidates]
    return counts, candidates


def test_weighted_round_robin_is_within_one_of_its_share_over_10000() -> None:
    reps = [Candidate(1, weight=1), Candidate(2, weight=1), Candidate(3, weight=2)]
    counts, _ = run(reps, 10_000)
    assert counts == {1: 2500, 2: 2500, 3: 5000}


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.sampled_from([0.5, 1.0, 1.5, 2.0, 3.0]), min_size=1, max_size=6),
    st.integers(1, 400),
)
def test_every_prefix_stays_within_one_of_the_weighted_share(weights: list[float], n: int) -> None:
    reps = [Candidate(i, weight=w) for i, w in enumerate(weights, start=1)]
    total = sum(weights)
    counts: Counter[int] = Counter()
    for step in range(1, n + 1):
        choice = choose("round_robin", reps, LeadFacts(), AT)
        assert choice.user_id is not None
        counts[choice.user_id] += 1
        reps = [with_credit(c, choice.credits) for c in reps]
        for rep in reps:
            assert abs(counts[rep.user_id] - step * rep.weight / total) <= 1 + 1e-9


def test_a_rep_back_from_a_week_off_is_not_flooded() -> None:
    holiday = (AT, AT + timedelta(days=7))
    reps = [Candidate(1, away=[holiday]), Candidate(2), Candidate(3)]
    during, reps = run(reps, 700, AT + timedelta(days=1))
    assert during[1] == 0
    after, _ = run(reps, 30, AT + timedelta(days=8))
    assert after == {1: 10, 2: 10, 3: 10}  # their share of what comes next, not the 350 they missed


def test_a_new_rep_joins_at_the_teams_pace() -> None:
    reps = [Candidate(1), Candidate(2)]
    _, reps = run(reps, 500)
    after, _ = run([*reps, Candidate(3)], 30)
    assert after == {1: 10, 2: 10, 3: 10}


def test_inactive_away_and_full_reps_are_skipped_with_reasons() -> None:
    reps = [
        Candidate(1, active=False),
        Candidate(2, away=[(AT - timedelta(hours=1), AT + timedelta(hours=1))]),
        Candidate(3, capacity=10, open_leads=10),
        Candidate(4),
    ]
    choice = choose("round_robin", reps, LeadFacts(), AT)
    assert choice.user_id == 4
    assert choice.skipped == {1: "inactive", 2: "out of office", 3: "at capacity (10/10)"}


def test_when_nobody_can_take_it_the_manager_queue_gets_it() -> None:
    choice = choose("least_loaded", [Candidate(1, active=False)], LeadFacts(), AT)
    assert choice.to_manager
    assert "manager" in choice.reason


def test_least_loaded_is_open_leads_over_capacity() -> None:
    reps = [
        Candidate(1, capacity=100, open_leads=50),
        Candidate(2, capacity=40, open_leads=30),
        Candidate(3, capacity=20, open_leads=5),
    ]
    assert choose("least_loaded", reps, LeadFacts(), AT).user_id == 3


def test_seed_003_employee_bands() -> None:
    bands = {
        "bands": [{"max": 10, "user": 1}, {"min": 11, "max": 50, "user": 2}, {"min": 51, "user": 3}]
    }
    reps = [Candidate(1), Candidate(2), Candidate(3)]
    assert [
        choose("by_field", reps, LeadFacts(employees=e), AT, bands).user_id
        for e in (3, 10, 11, 50, 51, 5000)
    ] == [1, 1, 2, 2, 3, 3]
    fallback = choose("by_field", reps, LeadFacts(employees=None), AT, bands)
    assert "no account.employees band" in fallback.reason


def test_by_score_bands() -> None:
    bands = {"bands": [{"max": 99, "user": 1}, {"min": 100, "user": 2}]}
    assert (
        choose("by_score", [Candidate(1), Candidate(2)], LeadFacts(score=120), AT, bands).user_id
        == 2
    )


def test_by_win_rate_needs_a_minimum_sample() -> None:
    reps = [Candidate(1, won=9, lost=1), Candidate(2, won=30, lost=20), Candidate(3, won=1, lost=0)]
    assert choose("by_win_rate", reps, LeadFacts(), AT, {"min_closed": 10}).user_id == 1
    assert choose("by_win_rate", reps, LeadFacts(), AT, {"min_closed": 20}).user_id == 2
    fallback = choose("by_win_rate", reps, LeadFacts(), AT, {"min_closed": 100})
    assert "round robin" in fallback.reason


def test_account_owner_keeps_one_company_with_one_owner() -> None:
    reps = [Candidate(1), Candidate(2), Candidate(3)]
    assert choose("account_owner", reps, LeadFacts(account_owner_id=3), AT).user_id == 3
    away = [Candidate(1), Candidate(2), Candidate(3, active=False)]
    fallback = choose("account_owner", away, LeadFacts(account_owner_id=3), AT)
    assert fallback.user_id in (1, 2)
    assert "no eligible owner" in fallback.reason
