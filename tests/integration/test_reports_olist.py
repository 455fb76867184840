"""The reports on Olist's real funnel, checked against figures computed here from the CSV files
alone."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import datetime

import pytest

from leadops.ingest.importer import run_import
from leadops.ingest.mappings import resolve_mapping
from leadops.reports import ReportParams, run_report
from leadops.runtime import Runtime
from tests.conftest import JST, requires_shared_data
from tests.olist_data import EXAMPLES, OLIST, read

pytestmark = [requires_shared_data(), pytest.mark.slow]


def test_reports_match_the_csv_files(runtime: Runtime) -> None:
    mqls = read("olist_marketing_qualified_leads_dataset.csv")
    deals = read("olist_closed_deals_dataset.csv")
    for kind, name, mapping in (
        ("leads", "olist_marketing_qualified_leads_dataset.csv", "olist-mqls.yaml"),
        ("deals", "olist_closed_deals_dataset.csv", "olist-deals.yaml"),
    ):
        run_import(
            kind,
            OLIST / name,
            resolve_mapping(str(EXAMPLES / mapping), kind),
            runtime.factory,
            runtime.settings,
            runtime.clock,
        )

    # Independently: from the CSV rows only.
    contact = {m["mql_id"]: datetime.fromisoformat(m["first_contact_date"]) for m in mqls}
    origin = {m["mql_id"]: m["origin"] or "(blank)" for m in mqls}
    won = {d["mql_id"]: datetime.fromisoformat(d["won_date"]) for d in deals}
    per_origin = Counter(origin.values())
    won_per_origin = Counter(origin[m] for m in won)
    mqls_per_month = Counter(f"{at:%Y-%m}" for at in contact.values())
    matrix = Counter((f"{contact[m]:%Y-%m}", f"{at:%Y-%m}") for m, at in won.items())
    durations = [
        (at - contact[m]).total_seconds() / 86400 for m, at in won.items() if at >= contact[m]
    ]
    early = [m for m, at in won.items() if at < contact[m]]

    params = ReportParams(period="month", tz=JST)
    with runtime.factory() as session:
        sources = {r["source"]: r for r in run_report(session, "sources", params).as_dicts()}
        kpis = run_report(session, "kpis", params)
        cohort = run_report(session, "cohort", params)
        funnel = {r["stage"]: r for r in run_report(session, "funnel", params).as_dicts()}

    # Overall and per-origin conversion.
    assert (funnel["leads"]["leads"], funnel["won"]["leads"]) == (8000, 842)
    assert funnel["won"]["from_first"] == round(842 / 8000, 4)
    assert {s: r["leads"] for s, r in sources.items()} == dict(per_origin)
    assert {s: r["won"] for s, r in sources.items() if r["won"]} == dict(won_per_origin)
    assert {s: r["won_rate"] for s, r in sources.items()} == {
        s: round(won_per_origin[s] / n, 4) for s, n in per_origin.items()
    }
    # MQLs per month (every Olist row is an MQL, so they are the new leads of each month).
    rows = {r["period"]: r for r in kpis.as_dicts()}
    assert {p: r["new_leads"] for p, r in rows.items() if p != "total" and r["new_leads"]} == dict(
        mqls_per_month
    )
    # The cohort matrix: MQL month × won month.
    cells = {
        (r["cohort"], r["outcome_period"]): r["count"]
        for r in cohort.as_dicts()
        if r["outcome"] == "won"
    }
    assert cells == dict(matrix)
    sizes = {r["cohort"]: r["cohort_leads"] for r in cohort.as_dicts()}
    assert all(sizes[c] == mqls_per_month[c] for c in sizes)
    # Days to won, the anomaly left out and shown.
    total = rows["total"]
    assert total["won"] == 842
    assert total["days_to_won_median"] == round(statistics.median(durations), 2)
    assert total["days_to_won_mean"] == round(statistics.fmean(durations), 2)
    assert len(early) == 1
    assert [a["anomaly"] for a in kpis.anomalies] == ["won_before_first_contact"]
    assert len(cohort.anomalies) == 1
    won_months = defaultdict(int)
    for at in won.values():
        won_months[f"{at:%Y-%m}"] += 1
    assert {p: r["won"] for p, r in rows.items() if p != "total" and r["won"]} == dict(won_months)
