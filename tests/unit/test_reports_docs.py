"""Every report is defined in docs/reports.md, under its own heading."""

from __future__ import annotations

from pathlib import Path

from leadops.reports import REPORTS

DOC = Path(__file__).resolve().parents[2] / "docs" / "reports.md"


def test_every_report_is_documented() -> None:
    headings = {
        line.removeprefix("## ").strip()
        for line in DOC.read_text(encoding="utf-8").splitlines()
        if line.startswith("## ")
    }
    assert set(REPORTS) <= headings, sorted(set(REPORTS) - headings)
    # SPEC §7's thirteen reports, no fewer.
    assert set(REPORTS) >= {
        "status-board",
        "dwell",
        "recycle-reasons",
        "funnel",
        "cohort",
        "kpis",
        "campaigns",
        "score-jumps",
        "new-leads",
        "pipeline",
        "tasks",
        "sources",
        "forecast",
    }
