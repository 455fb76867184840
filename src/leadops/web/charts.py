"""ECharts options for the reports a person would rather look at than read. Each takes the report's
own rows (the table under the chart shows the same numbers) and returns a JSON-ready option, or
None."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from leadops.reports import ReportResult
from leadops.web.i18n import Translator

PALETTE = ["#0b5cad", "#2f9e44", "#e8590c", "#7048e8", "#c2255c", "#1098ad", "#5c940d"]
Chart = dict[str, Any]


def _rows(result: ReportResult) -> list[dict[str, Any]]:
    return [r for r in result.as_dicts() if str(r.get(result.columns[0])) != "total"]


def funnel(result: ReportResult, t: Translator) -> Chart | None:
    rows = _rows(result)
    if not rows:
        return None
    data = [{"name": t.gettext(str(r["stage"])), "value": r["leads"]} for r in rows]
    return {
        "color": PALETTE,
        "tooltip": {"trigger": "item", "formatter": "{b}: {c}"},
        "series": [
            {
                "type": "funnel",
                "sort": "none",
                "left": "10%",
                "width": "80%",
                "minSize": "8%",
                "label": {
                    "show": True,
                    "position": "inside",
                    "formatter": "{b}  {c}",
                    "color": "#fff",
                },
                "data": data,
            }
        ],
    }


def cohort(result: ReportResult, t: Translator) -> Chart | None:
    rows = [r for r in _rows(result) if r["outcome"] == "appointment"] or _rows(result)
    if not rows:
        return None
    cohorts = sorted({str(r["cohort"]) for r in rows})
    periods = sorted({str(r["outcome_period"]) for r in rows})
    data = [
        [
            periods.index(str(r["outcome_period"])),
            cohorts.index(str(r["cohort"])),
            round(100 * (r["rate"] or 0), 1),
        ]
        for r in rows
    ]
    return {
        "tooltip": {"position": "top"},
        "grid": {"left": 80, "right": 20, "top": 30, "bottom": 80},
        "xAxis": {
            "type": "category",
            "data": periods,
            "name": t.gettext("Appointment month"),
            "nameLocation": "middle",
            "nameGap": 30,
            "splitArea": {"show": True},
        },
        "yAxis": {
            "type": "category",
            "data": cohorts,
            "name": t.gettext("Cohort"),
            "splitArea": {"show": True},
        },
        "visualMap": {
            "min": 0,
            "max": max(d[2] for d in data) or 1,
            "calculable": True,
            "orient": "horizontal",
            "left": "center",
            "bottom": 0,
            "inRange": {"color": ["#f1f5f9", "#0b5cad"]},
            "text": ["%", ""],
        },
        "series": [
            {
                "type": "heatmap",
                "name": t.gettext("appointment rate %"),
                "data": data,
                "label": {"show": True, "formatter": "{@[2]}%"},
            }
        ],
    }


def dwell(result: ReportResult, t: Translator) -> Chart | None:
    rows = _rows(result)
    if not rows:
        return None
    return {
        "color": PALETTE,
        "tooltip": {"trigger": "axis"},
        "legend": {},
        "grid": {"left": 60, "right": 20, "top": 40, "bottom": 60},
        "xAxis": {
            "type": "category",
            "data": [t.gettext(str(r["status"])) for r in rows],
            "axisLabel": {"interval": 0, "rotate": 20},
        },
        "yAxis": {"type": "value", "name": t.gettext("days")},
        "series": [
            {
                "type": "bar",
                "name": t.gettext("median days"),
                "data": [r["median_days"] for r in rows],
            },
            {"type": "bar", "name": t.gettext("mean days"), "data": [r["mean_days"] for r in rows]},
        ],
    }


def forecast(result: ReportResult, t: Translator) -> Chart | None:
    rows = result.as_dicts()
    if not rows:
        return None
    months = [str(r["month"]) for r in rows]
    interval = [
        {"yAxis": rows[-1]["low_80"], "name": t.gettext("80% low")},
        {"yAxis": rows[-1]["high_80"], "name": t.gettext("80% high")},
    ]
    has_actual = "actual" in result.columns

    def series(key: str, label: str) -> dict[str, Any]:
        return {"type": "bar", "stack": "f", "name": label, "data": [r.get(key) for r in rows]}

    chart: Chart = {
        "color": PALETTE,
        "tooltip": {"trigger": "axis"},
        "legend": {},
        "grid": {"left": 60, "right": 40, "top": 40, "bottom": 40},
        "xAxis": {"type": "category", "data": months},
        "yAxis": {"type": "value", "name": t.gettext("appointments")},
        "series": [],
    }
    if has_actual:
        chart["series"] = [
            {
                "type": "bar",
                "name": t.gettext("forecast"),
                "data": [r.get("expected") for r in rows],
            },
            {"type": "bar", "name": t.gettext("actual"), "data": [r.get("actual") for r in rows]},
        ]
        return chart
    chart["series"] = [
        series("booked", t.gettext("booked")),
        series("from_open_leads", t.gettext("from open leads")),
        series("from_new_leads", t.gettext("from new leads")),
    ]
    chart["series"][-1]["markLine"] = {
        "symbol": "none",
        "lineStyle": {"type": "dashed", "color": "#c2255c"},
        "label": {"formatter": "{b}: {c}", "position": "insideEndTop"},
        "data": interval,
    }
    top = max([rows[-1]["high_80"] or 0, *(r.get("expected") or 0 for r in rows)])
    chart["yAxis"]["max"] = math.ceil(top * 1.1) if top else None
    return chart


def pipeline(result: ReportResult, t: Translator) -> Chart | None:
    rows = _rows(result)
    if not rows:
        return None
    bars = [
        {
            "value": r["opportunities"],
            "itemStyle": {"color": "#c2255c" if r.get("bottleneck") else PALETTE[0]},
        }
        for r in rows
    ]
    return {
        "tooltip": {"trigger": "axis"},
        "legend": {},
        "grid": {"left": 60, "right": 60, "top": 40, "bottom": 40},
        "xAxis": {"type": "category", "data": [str(r["stage"]) for r in rows]},
        "yAxis": [
            {"type": "value", "name": t.gettext("opportunities")},
            {"type": "value", "name": t.gettext("days"), "position": "right"},
        ],
        "series": [
            {"type": "bar", "name": t.gettext("opportunities"), "data": bars},
            {
                "type": "line",
                "yAxisIndex": 1,
                "name": t.gettext("mean days in stage"),
                "data": [r["mean_days_in_stage"] for r in rows],
                "color": PALETTE[2],
            },
        ],
    }


def connect_patterns(result: ReportResult, t: Translator) -> Chart | None:
    """Horizontal bars (template · channel · stage names are long): the two rates in %, and the
    touches as markers on a second axis on top."""
    rows = _rows(result)
    if not rows:
        return None
    labels = [
        f"{r['template']} · {t.gettext(str(r['channel']))} · {t.gettext(str(r['stage']))}"
        for r in rows
    ]

    def percent(key: str) -> list[float | None]:
        return [None if r[key] is None else round(100 * r[key], 1) for r in rows]

    return {
        "color": PALETTE,
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "legend": {"bottom": 0},
        "grid": {"left": 10, "right": 70, "top": 40, "bottom": 40, "containLabel": True},
        "yAxis": {
            "type": "category",
            "data": labels,
            "inverse": True,
            "axisLabel": {"interval": 0, "fontSize": 11},
        },
        "xAxis": [
            {"type": "value", "name": "%"},
            {"type": "value", "name": t.gettext("touches"), "position": "top"},
        ],
        "series": [
            {"type": "bar", "name": t.gettext("connect rate %"), "data": percent("connect_rate")},
            {
                "type": "bar",
                "name": t.gettext("appointment rate %"),
                "data": percent("appointment_rate"),
            },
            {
                "type": "scatter",
                "xAxisIndex": 1,
                "symbol": "diamond",
                "symbolSize": 10,
                "name": t.gettext("touches"),
                "data": [r["touches"] for r in rows],
                "color": PALETTE[2],
            },
        ],
    }


def campaign_months(result: ReportResult, t: Translator, focus: str | None = None) -> Chart | None:
    """One campaign (``focus``, else the first): its results per month since the start as bars,
    its running totals of MQLs and appointments as lines, and its type's average running totals
    dashed beside them."""
    rows = result.as_dicts()
    if not rows:
        return None
    names = [str(r["campaign"]) for r in rows]
    name = focus if focus in names else names[0]
    mine = [r for r in rows if r["campaign"] == name]
    averages = {
        (r["month"], r["result"]): r["type_average_cumulative"]
        for r in (
            dict(zip(result.sections["against_type_average"]["columns"], row, strict=True))
            for row in result.sections["against_type_average"]["rows"]
        )
        if r["campaign"] == name
    }
    months = [r["month"] for r in mine]
    bars = [
        {"type": "bar", "name": t.gettext(key), "data": [r[key] for r in mine], "color": colour}
        for key, colour in (
            ("leads", PALETTE[0]),
            ("mql", PALETTE[1]),
            ("appointments", PALETTE[2]),
        )
    ]
    lines: list[dict[str, Any]] = []
    for key, colour in (("mql", PALETTE[1]), ("appointments", PALETTE[2])):
        lines.append(
            {
                "type": "line",
                "yAxisIndex": 1,
                "name": t.gettext("cumulative %(what)s", what=t.gettext(key)),
                "data": [r[f"cumulative_{key}"] for r in mine],
                "color": colour,
            }
        )
        lines.append(
            {
                "type": "line",
                "yAxisIndex": 1,
                "name": t.gettext("type average, cumulative %(what)s", what=t.gettext(key)),
                "data": [averages.get((m, key)) for m in months],
                "color": colour,
                "lineStyle": {"type": "dashed"},
            }
        )
    return {
        "title": {"text": name, "left": "center", "textStyle": {"fontSize": 14}},
        "tooltip": {"trigger": "axis"},
        "legend": {"bottom": 0},
        "grid": {"left": 60, "right": 60, "top": 50, "bottom": 90},
        "xAxis": {
            "type": "category",
            "name": t.gettext("month since start"),
            "nameLocation": "middle",
            "nameGap": 28,
            "data": [str(m) for m in months],
        },
        "yAxis": [
            {"type": "value", "name": t.gettext("in the month"), "minInterval": 1},
            {
                "type": "value",
                "name": t.gettext("cumulative"),
                "minInterval": 1,
                "position": "right",
            },
        ],
        "series": [*bars, *lines],
    }


CHARTS: dict[str, Callable[[ReportResult, Translator], Chart | None]] = {
    "connect-patterns": connect_patterns,
    "funnel": funnel,
    "cohort": cohort,
    "dwell": dwell,
    "forecast": forecast,
    "pipeline": pipeline,
}


def chart_for(result: ReportResult, t: Translator, focus: str | None = None) -> Chart | None:
    """The report's chart; ``focus``: the campaign campaign-months shows."""
    if result.name == "campaign-months":
        return campaign_months(result, t, focus)
    build = CHARTS.get(result.name)
    return build(result, t) if build else None
