"""Training, evaluating and scoring: what the CLI, the worker and ingest call."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session
from threadpoolctl import threadpool_limits

from leadops.config import Settings
from leadops.db import collector_paused
from leadops.models import Lead, PredictionModel
from leadops.predict.factors import factors
from leadops.predict.features import activity_labels, labelled, load_facts
from leadops.predict.store import latest_version, load_model, save_model, write_predictions
from leadops.predict.train import Trained, Training, train
from leadops.rules.loader import CompiledRules


@dataclass(frozen=True)
class Options:
    outcome: str = "appointment"
    min_leads: int = 200
    min_positives: int = 40
    horizon_days: int = 90
    exclude: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings, outcome: str | None = None) -> Options:
        return cls(
            outcome=outcome or settings.predict_outcome,
            min_leads=settings.predict_min_leads,
            min_positives=settings.predict_min_positives,
            horizon_days=settings.predict_horizon_days,
            exclude=tuple(n.strip() for n in settings.predict_exclude.split(",") if n.strip()),
        )


def evaluate(session: Session, rules: CompiledRules, as_of: datetime, options: Options) -> Training:
    """Learn and measure on the history known by ``as_of``, storing nothing."""
    leads = labelled(session, rules, options.outcome, as_of, options.horizon_days)
    # One thread: on a shared, busy machine the threaded fit is many times slower.
    with threadpool_limits(limits=1):
        return train(
            leads,
            sorted(activity_labels(session)),
            min_leads=options.min_leads,
            min_positives=options.min_positives,
            exclude=options.exclude,
        )


def train_model(
    session: Session, rules: CompiledRules, now: datetime, as_of: datetime, options: Options
) -> PredictionModel:
    """Learn from the history known by ``as_of`` and store the model as a new version."""
    training = evaluate(session, rules, as_of, options)
    return save_model(session, options.outcome, as_of, now, training)


def open_lead_ids(session: Session, rules: CompiledRules) -> list[int]:
    """Live leads not closed (open, worked or in nurture): the ones a prediction is for."""
    stmt = select(Lead.id).where(
        Lead.merged_into_id.is_(None), Lead.status.not_in(sorted(rules.closed_statuses))
    )
    return list(session.scalars(stmt.order_by(Lead.id)))


def score_leads(
    session: Session,
    rules: CompiledRules,
    now: datetime,
    lead_ids: Sequence[int] | None = None,
    *,
    version: int | None = None,
) -> int:
    """Probability and factors of these leads (every open lead when None) as they are at ``now``,
    under the newest model (or ``version``). Nothing to do without a model."""
    if version is None:
        latest = latest_version(session)
        if latest is None:
            return 0
        version, outcome = latest
    else:
        outcome = (
            session.scalar(
                select(PredictionModel.outcome).where(PredictionModel.version == version)
            )
            or ""
        )
    trained = load_model(session, version)
    ids = open_lead_ids(session, rules) if lead_ids is None else list(lead_ids)
    if not ids:
        return 0
    with threadpool_limits(limits=1), collector_paused():
        return _score(session, rules, now, trained, version, outcome, ids, lead_ids is None)


def _score(
    session: Session,
    rules: CompiledRules,
    now: datetime,
    trained: Trained,
    version: int,
    outcome: str,
    ids: list[int],
    every: bool,
) -> int:
    every = every and len(ids) > 5000
    leads = load_facts(session, rules, now, None if every else ids, current=True)
    if every:
        wanted = set(ids)
        leads = [lead for lead in leads if lead.lead_id in wanted]
    x = trained.design.matrix(leads)
    probabilities = np.round(trained.probabilities(x), 4).tolist()
    reasons = factors(trained, leads, x, activity_labels(session))
    rows: list[dict[str, Any]] = [
        {
            "lead_id": lead.lead_id,
            "model_version": version,
            "outcome": outcome,
            "probability": p,
            "factors": why,
            "scored_at": now,
        }
        for lead, p, why in zip(leads, probabilities, reasons, strict=True)
    ]
    return write_predictions(session, rows)
