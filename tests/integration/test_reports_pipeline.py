"""The pipeline report on Maven's CRM opportunities, checked against a computation from the CSV
file alone."""

from __future__ import annotations

import csv
import statistics
from collections import Counter, defaultdict
from datetime import datetime

import pytest

from leadops.ingest.importer import run_import
from leadops.ingest.mappings import resolve_mapping
from leadops.reports import ReportParams, run_report
from leadops.runtime import Runtime
from tests.conftest import JST, SHARED_DATA, requires_shared_data
from tests.olist_data import EXAMPLES

pytestmark = [requires_shared_data(), pytest.mark.slow]
PIPELINE = SHARED_DATA / "maven-crm-sales-opportunities" / "sales_pipeline.csv"
STAGES = {"Prospecting": "to_contact", "Engaging": "contacted", "Won": "won", "Lost": "lost"}
AS_OF = datetime(2018, 1, 1, tzinfo=JST)


def test_pipeline_matches_the_csv_file(runtime: Runtime) -> None:
    run_import(
        "deals",
        PIPELINE,
        resolve_mapping(str(EXAMPLES / "maven-pipeline.yaml"), "deals"),
        runtime.factory,
        runtime.settings,
        runtime.clock,
    )

    # Independently, from the CSV rows: count and amount per stage; open deals' days since they
    # began engaging (as of 2018-01-01 in Tokyo); closed deals' days from engaging to closing.
    count: Counter[str] = Counter()
    amount: dict[str, float] = defaultdict(float)
    waiting: dict[str, list[float]] = defaultdict(list)
    cycle: dict[str, list[float]] = defaultdict(list)
    undated: Counter[str] = Counter()

    def day(value: str) -> datetime:
        return datetime.fromisoformat(value).replace(tzinfo=JST)

    with PIPELINE.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            stage = STAGES[row["deal_stage"]]
            count[stage] += 1
            amount[stage] += float(row["close_value"] or 0)
            if not row["engage_date"]:
                undated[stage] += 1
            elif row["close_date"]:
                cycle[stage].append((day(row["close_date"]) - day(row["engage_date"])).days)
            else:
                waiting[stage].append((AS_OF - day(row["engage_date"])).days)

    with runtime.factory() as session:
        result = run_report(session, "pipeline", ReportParams(tz=JST, now=AS_OF))
    rows = {r["stage"]: r for r in result.as_dicts()}
    assert sum(count.values()) == 8800
    for stage in ("to_contact", "contacted", "won", "lost"):
        got = rows[stage]
        assert got["opportunities"] == count[stage], stage
        assert got["amount"] == round(amount[stage], 2), stage
        assert got["undated"] == undated[stage], stage
        expected_wait = round(statistics.fmean(waiting[stage]), 2) if waiting[stage] else None
        assert got["mean_days_in_stage"] == expected_wait, stage
        expected_median = round(statistics.median(waiting[stage]), 2) if waiting[stage] else None
        assert got["median_days_in_stage"] == expected_median, stage
        expected_cycle = round(statistics.fmean(cycle[stage]), 2) if cycle[stage] else None
        assert got["mean_days_to_close"] == expected_cycle, stage
    # Stages nobody is in are still shown, in pipeline order; the bottleneck is the open stage that
    # has waited longest: the 1,589 engaging deals (the 500 prospects have no date at all).
    assert [r["stage"] for r in result.as_dicts()] == [
        "to_contact",
        "contacted",
        "follow_up",
        "proposal_draft",
        "proposal_sent",
        "won",
        "lost",
    ]
    assert [s for s, r in rows.items() if r["bottleneck"]] == ["contacted"]
    assert rows["follow_up"]["opportunities"] == 0
    assert (
        f"win rate (won ÷ closed): {round(count['won'] / (count['won'] + count['lost']), 4)}"
        in result.notes
    )
