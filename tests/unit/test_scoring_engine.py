"""The pure scoring engine: incremental scoring (state carried as JSON, sweeps in between) equals
replay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from leadops.rules.loader import default_rules_text, load_rules
from leadops.scoring.engine import ScoredActivity, Scorer, ScoreState

RULES = load_rules(
    default_rules_text().replace(
        "  decay:\n",
        "  decay:\n    - {id: fast-decay, group: behavior, percent: 25, every_days: 3}\n",
    ),
    version=1,
)
T0 = datetime(2026, 1, 1, tzinfo=UTC)
KINDS = [
    ("email_open", {}),
    ("email_click", {}),
    ("page_view", {"url": "/pricing"}),
    ("content_download", {}),
    ("trial_signup", {}),
    ("unsubscribe", {}),
    ("form_submit", {"form": "inquiry"}),
    ("page_view", {"url": "/x"}),
]

events = st.lists(
    st.tuples(st.integers(0, len(KINDS) - 1), st.integers(0, 60 * 24 * 120)), max_size=40
)
sweeps = st.lists(st.floats(0, 1), max_size=40)


@settings(max_examples=150, deadline=None)
@given(events, sweeps, st.integers(0, 60 * 24 * 200))
def test_incremental_scoring_equals_replay(
    raw: list[tuple[int, int]], sweep_points: list[float], end: int
) -> None:
    scorer = Scorer(RULES)
    acts = sorted(
        (
            ScoredActivity(i, KINDS[k][0], T0 + timedelta(minutes=m), KINDS[k][1])
            for i, (k, m) in enumerate(raw)
        ),
        key=lambda a: (a.at, a.id),
    )
    now = max([T0 + timedelta(minutes=end)] + [a.at for a in acts])
    state = ScoreState()
    lines = scorer.score_fit(state, {}, T0)[0]
    previous = T0
    for index, act in enumerate(acts):
        # A sweep somewhere strictly between the previous activity and this one.
        if index < len(sweep_points) and act.at > previous:
            lines += scorer.advance(
                state, previous + (act.at - previous) * min(sweep_points[index], 0.999)
            )
        state = ScoreState.from_json(state.to_json())
        assert not state.is_late(act.at)
        lines += scorer.score_activity(state, act, {})
        previous = act.at
    lines += scorer.advance(state, now)
    replayed_state, replayed = scorer.replay({}, acts, T0, now)
    assert sorted(lines, key=lambda x: x.key) == sorted(replayed, key=lambda x: x.key)
    assert state.groups == replayed_state.groups


def test_seed_003_leads_at_engine_level() -> None:
    scorer = Scorer(load_rules(default_rules_text(), version=1))
    a = (
        [("content_download", {})] * 3
        + [("email_open", {})] * 3
        + [("email_click", {})] * 3
        + [("trial_signup", {})]
    )
    b = [("page_view", {"url": "/pricing"}), ("email_open", {}), ("email_open", {})]
    for events_, expected in ((a, 76), (b, 19)):
        acts = [
            ScoredActivity(i, t, T0 + timedelta(hours=i), p) for i, (t, p) in enumerate(events_)
        ]
        state, _ = scorer.replay({}, acts, T0, T0 + timedelta(days=1))
        assert state.total(scorer.totals) == expected


def test_an_activity_older_than_the_state_is_late() -> None:
    scorer = Scorer(RULES)
    state = ScoreState()
    scorer.score_activity(state, ScoredActivity(1, "email_open", T0 + timedelta(days=2), {}), {})
    assert state.is_late(T0 + timedelta(days=1))
    assert not state.is_late(T0 + timedelta(days=2))
    scorer.advance(state, T0 + timedelta(days=10))
    assert state.is_late(T0 + timedelta(days=5))
