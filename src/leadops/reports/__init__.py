"""Reports: typed queries over the history, each registered by name in ``base.REPORTS``."""

import gc
from collections.abc import Iterator
from contextlib import contextmanager

from leadops.errors import NotFound
from leadops.reports import (  # noqa: F401 (registers the reports)
    deals,
    forecast,
    lead_reports,
    operations,
    revenue,
)
from leadops.reports.base import REPORTS, ReportParams, ReportResult

__all__ = ["REPORTS", "ReportParams", "ReportResult", "run_report"]


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while a report builds its rows: a report allocates up to
    hundreds of thousands of small lists and tuples, none of them in cycles, and each collection
    pass would walk them all again (a third of a large report's time). Reference counting still
    frees memory as usual."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def run_report(session: object, name: str, params: ReportParams) -> ReportResult:
    spec = REPORTS.get(name)
    if spec is None:
        raise NotFound(f"no report {name!r}; reports are {', '.join(sorted(REPORTS))}")
    with collector_paused():
        result = spec.run(session, params)  # type: ignore[arg-type]
        result.localize(params.tz)
    return result
