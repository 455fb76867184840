"""Reports from the CLI and the API, in every format, with clear errors for bad parameters."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from typer.testing import CliRunner

from leadops.cli import app
from leadops.runtime import Runtime
from tests.conftest import api_token
from tests.factories import make_lead

runner = CliRunner()


def test_reports_over_the_api(client: TestClient, runtime: Runtime) -> None:
    with runtime.factory() as session:
        for i, source in enumerate(["展示会", "展示会", "ウェビナー"]):
            make_lead(
                session, runtime, email=f"r{i}@firm{i}.co.jp", company=f"Firm {i}", source=source
            )
        session.commit()
    body = client.get("/api/v1/reports/sources").json()
    assert {r["source"]: r["leads"] for r in body["rows"]} == {"展示会": 2, "ウェビナー": 1}
    assert body["definition"]
    text = client.get("/api/v1/reports/sources", params={"format": "csv"}).content.decode(
        "utf-8-sig"
    )
    assert list(csv.reader(io.StringIO(text)))[0][:2] == ["source", "leads"]
    xlsx = client.get("/api/v1/reports/status-board", params={"format": "xlsx"})
    book = load_workbook(io.BytesIO(xlsx.content))
    assert book.sheetnames == ["status-board", "touch_stage"]
    bad = client.get("/api/v1/reports/kpis", params={"period": "fortnight", "from": "2026-13-01"})
    assert bad.status_code == 422
    assert {d["path"] for d in bad.json()["detail"]} >= {"from"}
    bad_period = client.get("/api/v1/reports/kpis", params={"period": "fortnight"})
    assert bad_period.status_code == 422
    assert bad_period.json()["detail"][0]["path"] == "period"
    assert client.get("/api/v1/reports/nonsense").status_code == 404


def test_reports_from_the_cli(
    db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, runtime: Runtime
) -> None:
    monkeypatch.setenv("LEADOPS_DATABASE_URL", db_url)
    with runtime.factory() as session:
        make_lead(session, runtime, email="a@firm.co.jp", company="Firm", source="展示会")
        session.commit()
    table = runner.invoke(app, ["report", "funnel", "--from", "2026-11-01", "--to", "2026-11-30"])
    assert table.exit_code == 0, table.output
    assert "from_previous" in table.output
    assert "100.0%" in table.output
    data = json.loads(
        runner.invoke(app, ["report", "kpis", "--period", "week", "--format", "json"]).output
    )
    assert data["rows"][0]["period"] == "2026-W48"
    assert data["rows"][-1]["period"] == "total"
    out = tmp_path / "cohort.xlsx"
    assert (
        runner.invoke(app, ["report", "cohort", "--format", "xlsx", "-o", str(out)]).exit_code == 0
    )
    assert load_workbook(out).sheetnames == ["cohort"]
    unknown = runner.invoke(app, ["report", "nonsense"])
    assert unknown.exit_code == 2
    assert "reports are" in unknown.output


def test_every_report_on_the_demo_in_every_format(
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    runtime: Runtime,
    client: TestClient,
) -> None:
    from leadops.demo import build_demo
    from leadops.reports import REPORTS

    build_demo(runtime, leads=600)  # the demo replaces every user: call as one of its own
    client.headers["Authorization"] = f"Bearer {api_token(runtime, role='marketing')}"
    monkeypatch.setenv("LEADOPS_DATABASE_URL", db_url)
    for name in sorted(REPORTS):
        body = client.get(f"/api/v1/reports/{name}")
        assert body.status_code == 200, (name, body.text)
        assert body.json()["definition"]
        xlsx = client.get(f"/api/v1/reports/{name}", params={"format": "xlsx"})
        assert xlsx.status_code == 200, name
        assert load_workbook(io.BytesIO(xlsx.content)).sheetnames[0] == name
        assert client.get(f"/api/v1/reports/{name}", params={"format": "csv"}).text.startswith(
            "\ufeff" + body.json()["columns"][0]
        )
    # Times come in the configured time zone.
    dwell = client.get("/api/v1/reports/dwell").json()
    assert dwell["sections"]["leads"]["rows"][0]["since"].endswith("+09:00")
    # The forecast's backtest on the demo: day 1, 10 and 20 of each past month, with its MAPE.
    result = runner.invoke(app, ["report", "forecast", "--backtest", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    backtest = data["sections"]["backtest"]["rows"]
    assert {row["day"] for row in backtest} == {1, 10, 20}
    assert len({row["month"] for row in backtest}) >= 3
    mape = {row["day"]: row["mape"] for row in data["sections"]["backtest_mape"]["rows"]}
    assert set(mape) == {1, 10, 20, "all"}
    assert 0 <= mape["all"] < 1
    table = runner.invoke(app, ["report", "forecast", "--backtest"])
    assert "backtest_mape" in table.output
    # Options reach the reports, and a bad one is named.
    jumps = client.get(
        "/api/v1/reports/score-jumps", params={"threshold": 30, "as_of": "2026-11-20"}
    ).json()
    assert all(row["rise"] >= 30 and row["date"] <= "2026-11-20" for row in jumps["rows"])
    bad = client.get("/api/v1/reports/score-jumps", params={"threshold": 0})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["path"] == "threshold"
