"""The predictions report: every lead with a probability from the newest model, highest first,
with its strongest factors (docs/predictions.md)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadops.models import Lead, LeadPrediction
from leadops.reports.base import N_, ReportParams, ReportResult, report

COLUMNS = [
    "lead_id",
    "email",
    "crm_source",
    "external_id",
    "status",
    "outcome",
    "model_version",
    "probability",
    "factors",
]


def factor_text(factors: list[dict[str, Any]], locale: str) -> str:
    """The factors in one cell: ``↑ reason`` for each raising one, ``↓ reason`` for each lowering
    one, in the report's language."""
    key = "ja" if locale == "ja" else "en"
    return "; ".join(
        f"{'↑' if f.get('direction') == 'raises' else '↓'} {f.get(key, f.get('feature'))}"
        for f in factors
    )


@report("predictions", "each lead's predicted probability of the outcome, with its factors")
def predictions(session: Session, params: ReportParams) -> ReportResult:
    stmt = (
        select(
            Lead.id,
            Lead.email,
            Lead.crm_source,
            Lead.crm_id,
            Lead.status,
            LeadPrediction.outcome,
            LeadPrediction.model_version,
            LeadPrediction.probability,
            LeadPrediction.factors,
        )
        .join(LeadPrediction, LeadPrediction.lead_id == Lead.id)
        .where(Lead.merged_into_id.is_(None))
        .order_by(LeadPrediction.probability.desc(), Lead.id)
    )
    locale = params.locale or "en"
    rows = [[*r[:8], factor_text(r[8] or [], locale)] for r in session.execute(stmt)]
    notes = [] if rows else [N_("No predictions yet: a predictive model has not been trained.")]
    return ReportResult(
        "predictions",
        list(COLUMNS),
        rows,
        N_(
            "Leads (not merged) with a prediction, highest probability first: the probability "
            "of the outcome (appointment or won) under the newest model, and the factors that "
            "raise (↑) or lower (↓) it most."
        ),
        notes=notes,
    )
