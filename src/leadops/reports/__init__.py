"""Reports: typed queries over the history, each registered by name in ``base.REPORTS``."""

import dataclasses

from sqlalchemy.orm import Session

from leadops.db import collector_paused
from leadops.errors import NotFound
from leadops.reports import (  # noqa: F401 (registers the reports)
    campaign_months,
    deals,
    forecast,
    lead_reports,
    operations,
    playbooks,
    predictions,
    returning,
    revenue,
)
from leadops.reports.base import REPORTS, ReportParams, ReportResult
from leadops.rules.service import active_rules

__all__ = ["REPORTS", "ReportParams", "ReportResult", "run_report"]


def with_calendar(session: Session, params: ReportParams) -> ReportParams:
    """``params`` with the organisation's fiscal year start and label language (the rules'
    ``calendar``) where they were not given."""
    if params.fiscal_start is not None and params.locale is not None:
        return params
    calendar = active_rules(session, params.moment).document.calendar
    return dataclasses.replace(
        params,
        fiscal_start=params.fiscal_start or calendar.fiscal_start,
        locale=params.locale or calendar.locale,
    )


def run_report(session: Session, name: str, params: ReportParams) -> ReportResult:
    spec = REPORTS.get(name)
    if spec is None:
        raise NotFound(f"no report {name!r}; reports are {', '.join(sorted(REPORTS))}")
    params = with_calendar(session, params)
    with collector_paused():
        result = spec.run(session, params)
        result.localize(params.tz)
    return result
