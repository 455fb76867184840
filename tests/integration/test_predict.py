"""Predictive scoring against SQLite and PostgreSQL: what the model may see, when it refuses, the
round trip through the database, its factors, the rules field and scoring on ingest."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, timedelta

import numpy as np
import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from leadops.lifecycle.facts import load_leads
from leadops.models import Activity, Lead, LeadPrediction
from leadops.models.base import table_of
from leadops.pipeline import process
from leadops.predict import store
from leadops.predict.features import labelled, load_facts
from leadops.predict.schedule import run_schedule
from leadops.predict.service import Options, evaluate, open_lead_ids, score_leads, train_model
from leadops.predict.train import NotEnoughHistory
from leadops.rules.conditions import Facts, Vocabulary, compile_condition
from leadops.rules.loader import DEFAULTS_PATH
from leadops.rules.service import active_rules, apply_rules
from leadops.runtime import Runtime
from tests.conftest import NOW
from tests.factories import make_lead
from tests.predict_world import build_world

OPTIONS = Options(outcome="appointment", min_leads=200, min_positives=40, horizon_days=60)


def test_features_never_see_what_was_recorded_at_or_after_the_cutoff(session: Session) -> None:
    world = build_world(session)
    now = NOW.astimezone(UTC)
    rules = active_rules(session, now)
    leads = labelled(session, rules, "appointment", now, 60)
    assert {lead.lead_id for lead in leads if lead.label == 1} == set(world.booked)
    activities = session.execute(select(Activity.lead_id, Activity.type, Activity.occurred_at))
    before: dict[int, Counter[str]] = {}
    cutoffs = {lead.lead_id: lead.cutoff for lead in leads}
    for lead_id, type_, at in activities:
        if lead_id in cutoffs and at < cutoffs[lead_id]:
            before.setdefault(lead_id, Counter())[type_] += 1
    for lead in leads:
        assert lead.counts == dict(before.get(lead.lead_id, {})), lead.lead_id
        if lead.label == 1:
            assert lead.cutoff <= world.booked[lead.lead_id]
            # The trial follows the appointment: it is never seen.
            assert "trial_signup" not in lead.counts
    # The same at an explicit cut-off for every lead.
    middle = now.replace(month=6)
    for lead in load_facts(session, rules, middle):
        assert lead.last_activity_at is None or lead.last_activity_at < middle


def test_training_is_refused_below_the_minimum(session: Session) -> None:
    build_world(session, leads=120)
    rules = active_rules(session, NOW.astimezone(UTC))
    with pytest.raises(NotEnoughHistory, match=r"at least 200 leads and 40 that reached it"):
        evaluate(session, rules, NOW.astimezone(UTC), OPTIONS)


def test_train_store_and_score_round_trip_with_factors_in_both_languages(
    session: Session,
) -> None:
    build_world(session)
    now = NOW.astimezone(UTC)
    rules = active_rules(session, now)
    model = train_model(session, rules, now, now, OPTIONS)
    metrics = model.metrics
    assert 0.6 < metrics["auc"] <= 1.0
    assert (
        metrics["training_size"] + metrics["validation_size"] + metrics["holdout_size"]
        == (metrics["labelled"])
    )
    assert "count.trial_signup" not in metrics["features"]
    assert sum(row["leads"] for row in metrics["calibration"]) == metrics["holdout_size"]
    # Read back from the table, not the cache: the same probabilities.
    cached = store.load_model(session, model.version)
    store._CACHE.clear()
    loaded = store.load_model(session, model.version)
    facts = load_facts(session, rules, now, open_lead_ids(session, rules))
    x = cached.design.matrix(facts)
    assert np.allclose(cached.probabilities(x), loaded.probabilities(x))

    scored = score_leads(session, rules, now)
    assert scored == len(open_lead_ids(session, rules)) > 0
    predictions = session.scalars(select(LeadPrediction)).all()
    assert len(predictions) == scored
    for p in predictions:
        assert 0.0 <= p.probability <= 1.0
        assert p.model_version == model.version
        assert len(p.factors) <= 6
        directions = [f["direction"] for f in p.factors]
        assert directions == sorted(directions, key=lambda d: d != "raises")
        for factor in p.factors:
            assert factor["ja"]
            assert factor["en"]
            assert factor["ja"] != factor["feature"]
    words = {f["en"].split(":")[0] for p in predictions for f in p.factors}
    assert {"Source", "budget"} & words
    # Scoring again at the same moment writes the same rows (idempotent).
    assert score_leads(session, rules, now) == scored
    assert len(session.scalars(select(LeadPrediction)).all()) == scored


def test_prediction_probability_is_a_field_for_rules_conditions(session: Session) -> None:
    build_world(session)
    now = NOW.astimezone(UTC)
    rules = active_rules(session, now)
    train_model(session, rules, now, now, OPTIONS)
    score_leads(session, rules, now)
    rows = {p.lead_id: p.probability for p in session.scalars(select(LeadPrediction))}
    high = compile_condition(
        {"field": "prediction.probability", "gte": 0.3}, Vocabulary(frozenset())
    )
    loaded = load_leads(session, sorted(rows), lock=False)
    for lead_id, row in loaded.items():
        assert row.fields["prediction.probability"] == pytest.approx(rows[lead_id])
        assert high(Facts(fields=row.fields)) == (rows[lead_id] >= 0.3)
    assert any(p >= 0.3 for p in rows.values())
    assert any(p < 0.3 for p in rows.values())


def test_a_new_lead_is_scored_on_ingest_with_the_stored_model(
    session: Session, runtime: Runtime
) -> None:
    build_world(session)
    now = NOW.astimezone(UTC)
    rules = active_rules(session, now)
    model = train_model(session, rules, now, now, OPTIONS)
    session.commit()
    lead = make_lead(session, runtime, email="new.webinar@corp1.co.jp", source="webinar")
    found = session.get(LeadPrediction, lead.id)
    assert found is not None
    assert found.model_version == model.version
    assert 0.0 <= found.probability <= 1.0


TEMPERATURE_BY_PREDICTION = """temperature:
  field: prediction.probability
  bands:
    - {name: cold, below: 0.2}
    - {name: warm, below: 0.4}
    - {name: hot}
"""


def test_temperature_bands_can_follow_the_predicted_probability(session: Session) -> None:
    build_world(session)
    now = NOW.astimezone(UTC)
    train_model(session, active_rules(session, now), now, now, OPTIONS)
    text = DEFAULTS_PATH.read_text(encoding="utf-8")
    start = text.index("temperature:")
    end = text.index("\n\n", start)
    apply_rules(
        session,
        text[:start] + TEMPERATURE_BY_PREDICTION + text[end:],
        author="test",
        comment="temperature from the model",
        now=now,
    )
    rules = active_rules(session, now)
    ids = open_lead_ids(session, rules)
    process(session, rules, now, ids, rescore=True)
    session.expire_all()
    probabilities = {p.lead_id: p.probability for p in session.scalars(select(LeadPrediction))}
    bands: Counter[str] = Counter()
    for lead in session.scalars(select(Lead).where(Lead.id.in_(ids))):
        p = probabilities[lead.id]
        expected = "cold" if p < 0.2 else "warm" if p < 0.4 else "hot"
        assert lead.temperature == expected, (lead.id, p)
        bands[expected] += 1
    assert len(bands) >= 2


def test_the_worker_rescores_daily_and_retrains_weekly(session: Session, runtime: Runtime) -> None:
    build_world(session)
    now = NOW.astimezone(UTC)
    settings = runtime.settings.model_copy(update={"predict_horizon_days": 60})
    assert run_schedule(runtime.factory, settings, now).summary() == (
        "predictions: no retraining, 0 leads rescored"
    )  # no model yet: the first is trained by hand
    train_model(session, active_rules(session, now), now, now, OPTIONS)
    session.commit()
    first = run_schedule(runtime.factory, settings, now + timedelta(hours=1))
    assert first.trained is None
    assert first.scored > 0  # never scored with this model yet
    assert run_schedule(runtime.factory, settings, now + timedelta(hours=2)).scored == 0
    daily = run_schedule(runtime.factory, settings, now + timedelta(hours=26))
    assert daily.trained is None
    assert daily.scored == first.scored
    weekly = run_schedule(runtime.factory, settings, now + timedelta(days=8))
    assert weekly.trained == 2
    assert weekly.scored == first.scored
    with runtime.factory() as check:
        versions = {p.model_version for p in check.scalars(select(LeadPrediction))}
    assert versions == {2}


def test_many_predictions_are_written_in_bulk_and_replaced_on_a_rescore(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store, "BULK", 10)
    world = build_world(session)
    odd = 'tab\there "quoted" back\\slash\nnew line'
    for lead_id in world.lead_ids[:8]:
        session.execute(
            update(table_of(Lead)).where(Lead.id == lead_id).values(custom={"plan": odd})
        )
    now = NOW.astimezone(UTC)
    rules = active_rules(session, now)
    train_model(session, rules, now, now, OPTIONS)
    scored = score_leads(session, rules, now)
    assert scored > 10
    first = {p.lead_id: (p.probability, p.factors) for p in session.scalars(select(LeadPrediction))}
    later = now + timedelta(days=3)
    assert score_leads(session, rules, later) == scored
    session.expire_all()
    again = session.scalars(select(LeadPrediction)).all()
    assert len(again) == scored
    assert {p.scored_at for p in again} == {later}
    assert {p.lead_id for p in again} == set(first)
    sample = again[0]
    assert sample.factors
    assert isinstance(sample.factors[0]["ja"], str)
    assert sample.factors[0]["ja"] in {f["ja"] for _, fs in first.values() for f in fs}
    values = {f["value"] for p in again for f in p.factors if f["feature"] == "custom.plan"}
    assert odd in values
