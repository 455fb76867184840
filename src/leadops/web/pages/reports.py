"""Report pages: every report with its filters, its definition, a table, a chart where a person
would rather look than read (funnel, cohort heat map, dwell, forecast with its interval, pipeline,
a campaign's months since its start), and the CSV / XLSX downloads of the API."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse

from leadops.errors import NotFound
from leadops.reports import REPORTS, run_report
from leadops.reports.base import report_params
from leadops.rules.segments import DIMENSIONS
from leadops.rules.service import active_rules
from leadops.web.charts import chart_for
from leadops.web.deps import ReadSessionDep, RuntimeDep
from leadops.web.render import render, status_labels, translator
from leadops.web.report_words import ReportWords
from leadops.web.security import require

router = APIRouter(include_in_schema=False)
FILTERS = ("from", "to", "period", "by", "as_of", "threshold", "backtest", "segment", "campaign")
ROW_LIMIT = 500


@router.get("/reports", response_class=HTMLResponse, dependencies=[require("read")])
def reports_index(request: Request) -> HTMLResponse:
    t = translator(request)
    return render(
        request,
        "reports.html",
        reports=sorted((n, t.gettext(s.summary)) for n, s in REPORTS.items()),
    )


@router.get("/reports/{name}", response_class=HTMLResponse, dependencies=[require("read")])
def report_page(
    request: Request,
    name: Annotated[str, Path(max_length=40)],
    session: ReadSessionDep,
    runtime: RuntimeDep,
    threshold: Annotated[int, Query(ge=0, le=1_000_000)] = 10,
) -> HTMLResponse:
    if name not in REPORTS:
        raise NotFound(f"no report {name!r}; reports are {', '.join(sorted(REPORTS))}")
    values = {k: v for k in FILTERS if (v := request.query_params.get(k, "").strip())}
    t = translator(request)
    params = report_params(
        values.get("from"),
        values.get("to"),
        values.get("period", "month"),
        values.get("by", "period"),
        runtime.settings.tz,
        runtime.clock.now(),
        as_of=values.get("as_of"),
        threshold=threshold,
        backtest=values.get("backtest") == "1",
        locale=t.locale,
        segment=values.get("segment"),
    )
    result = run_report(session, name, params)
    result.localize(runtime.settings.tz)
    query = urlencode(values)
    words = ReportWords(t, status_labels(active_rules(session, runtime.clock.now()), t.locale))
    return render(
        request,
        "report.html",
        name=name,
        title=t.gettext(REPORTS[name].summary),
        result=result,
        values=values,
        rows=result.rows[:ROW_LIMIT],
        chart=words.chart(chart_for(result, t, values.get("campaign"))),
        words=words,
        query=query,
        reports=sorted(REPORTS),
        segments=DIMENSIONS,
        campaigns=sorted({str(r[0]) for r in result.rows}) if name == "campaign-months" else [],
    )
