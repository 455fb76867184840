"""Reports: typed queries over the history, each registered by name in ``base.REPORTS``."""

from leadops.reports import deals, forecast, lead_reports, operations  # noqa: F401 (registers the reports)
from leadops.reports.base import REPORTS, ReportParams, ReportResult

__all__ = ["REPORTS", "ReportParams", "ReportResult", "run_report"]


def run_report(session: object, name: str, params: ReportParams) -> ReportResult:
    from leadops.errors import NotFound

    spec = REPORTS.get(name)
    if spec is None:
        raise NotFound(f"no report {name!r}; reports are {', '.join(sorted(REPORTS))}")
    result = spec.run(session, params)  # type: ignore[arg-type]
    result.localize(params.tz)
    return result
