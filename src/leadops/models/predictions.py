"""Predictive scoring: the models leadops learned from its own history, and each lead's latest
probability with its reasons (``leadops.predict``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from leadops.models.base import Base, BigId, Json, UTCDateTime


class PredictionModel(Base):
    """One trained model version: what it predicts, when and up to when it learned, its held-out
    metrics, and the fitted model itself (written and read only by ``leadops.predict.store``)."""

    __tablename__ = "prediction_models"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    #: ``appointment`` or ``won``.
    outcome: Mapped[str] = mapped_column(String(20))
    #: ``logistic`` or ``boosting``: the family that won on the validation slice.
    kind: Mapped[str] = mapped_column(String(20))
    trained_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Outcomes known by this time were learned from; nothing recorded after it was seen.
    as_of: Mapped[datetime] = mapped_column(UTCDateTime)
    metrics: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    body: Mapped[bytes] = mapped_column(LargeBinary)


class LeadPrediction(Base):
    """A lead's latest probability under the newest model, with its strongest factors."""

    __tablename__ = "lead_predictions"
    __table_args__ = (Index("ix_lead_predictions_probability", "probability"),)

    lead_id: Mapped[int] = mapped_column(
        ForeignKey("leads.id", ondelete="CASCADE"), primary_key=True
    )
    model_version: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(20))
    probability: Mapped[float] = mapped_column(Float)
    #: ``[{"feature", "value", "effect", "ja", "en"}]``: up to three positive then three negative.
    factors: Mapped[list[dict[str, Any]]] = mapped_column(Json, default=list)
    scored_at: Mapped[datetime] = mapped_column(UTCDateTime)
