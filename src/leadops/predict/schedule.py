"""The worker's part: retrain the model on a schedule (weekly by default) and rescore every open
lead with the newest one (daily by default).

The worker only retrains a model that exists: the first one is trained by ``leadops predict
train``, which also says plainly when the history is too short. Two workers that retrain at
once make one version: the second insert of the same version number fails and is dropped."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from leadops.config import Settings
from leadops.db import run_in_transaction
from leadops.models import LeadPrediction, PredictionModel
from leadops.predict.service import Options, score_leads, train_model
from leadops.predict.store import latest_model
from leadops.predict.train import NotEnoughHistory
from leadops.rules.service import active_rules


@dataclass
class PredictSweep:
    trained: int | None = None
    scored: int = 0
    refused: str | None = None

    def summary(self) -> str:
        trained = f"v{self.trained} trained" if self.trained else "no retraining"
        refused = f" (refused: {self.refused})" if self.refused else ""
        return f"predictions: {trained}{refused}, {self.scored} leads rescored"


def _due(
    session: Session, settings: Settings, now: datetime
) -> tuple[PredictionModel | None, bool]:
    """The model to retrain (when its time has come), and whether a rescore is due."""
    model = latest_model(session)
    if model is None:
        return None, False
    retrain = model.trained_at <= now - timedelta(days=settings.predict_retrain_days)
    last = session.scalar(
        select(func.max(LeadPrediction.scored_at)).where(
            LeadPrediction.model_version == model.version
        )
    )
    rescore = last is None or last <= now - timedelta(hours=settings.predict_rescore_hours)
    return (model if retrain else None), rescore


def run_schedule(factory: sessionmaker[Session], settings: Settings, now: datetime) -> PredictSweep:
    out = PredictSweep()
    with factory() as session:
        retrain, rescore = _due(session, settings, now)
        seen = (retrain.version, retrain.outcome) if retrain is not None else None
    if seen is not None:
        version, outcome = seen

        def learn(session: Session) -> int | None:
            newest = latest_model(session)
            if newest is None or newest.version != version:
                return None  # another worker retrained first
            options = Options.from_settings(settings, outcome)
            return train_model(session, active_rules(session, now), now, now, options).version

        try:
            out.trained = run_in_transaction(factory, learn)
            rescore = rescore or out.trained is not None
        except NotEnoughHistory as exc:
            out.refused = str(exc)
        except IntegrityError:
            pass  # another worker stored this version first
    if rescore:
        out.scored = run_in_transaction(
            factory, lambda s: score_leads(s, active_rules(s, now), now)
        )
    return out
