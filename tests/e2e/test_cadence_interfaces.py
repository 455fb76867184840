"""Statuses, touches and the inbox through the REST API and the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from leadops.cli import app

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "org.yaml"
runner = CliRunner()


def test_status_touch_and_inbox_over_the_api(
    client: TestClient, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEADOPS_DATABASE_URL", db_url)
    assert runner.invoke(app, ["org", "apply", str(EXAMPLE)]).exit_code == 0
    client.put("/api/v1/leads", json={"email": "tanaka@maker.co.jp", "company": "メーカー"})
    lead = client.get("/api/v1/leads/tanaka@maker.co.jp").json()["lead"]
    owner = client.get("/api/v1/leads/tanaka@maker.co.jp/routing").json()[0]["user"]

    touch = {"channel": "call", "outcome": "no_answer", "external_id": "crm-touch-1"}
    first = client.post("/api/v1/leads/tanaka@maker.co.jp/touches", json=touch)
    assert first.status_code == 201
    assert (first.json()["from"], first.json()["to"]) == ("untouched", "touch_1")
    again = client.post("/api/v1/leads/tanaka@maker.co.jp/touches", json=touch)
    assert again.status_code == 200
    assert again.json()["touch_id"] == first.json()["touch_id"]
    bad = client.post(
        "/api/v1/leads/tanaka@maker.co.jp/touches", json={"channel": "fax", "outcome": "no_answer"}
    )
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["path"] == "channel"

    missing = client.post("/api/v1/leads/tanaka@maker.co.jp/status", json={"status": "recycled"})
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["path"] == "reason"
    done = client.post(
        "/api/v1/leads/tanaka@maker.co.jp/status",
        json={"status": "recycled", "reason": "timing", "by": owner},
    )
    assert done.status_code == 200
    assert done.json()["changed"] is True
    history = client.get("/api/v1/leads/tanaka@maker.co.jp").json()
    assert history["lead"]["team"] == "マーケティング部"  # back to marketing nurture
    status_event = next(e for e in history["events"] if e["kind"] == "status")
    assert status_event["reason"] == "timing"
    assert status_event["actor"].startswith("user:")
    refused = client.post("/api/v1/leads/tanaka@maker.co.jp/status", json={"status": "new"})
    assert refused.status_code == 409
    assert refused.json()["error"] == "invalid_transition"

    box = client.get("/api/v1/notifications", params={"user": owner}).json()
    assert [n["template"] for n in box][-1] == "lead_assigned"
    assert all(n["payload"]["lead_id"] == lead["id"] for n in box)
    read = client.post(f"/api/v1/notifications/{box[-1]['id']}/read")
    assert read.status_code == 200
    assert (
        len(client.get("/api/v1/notifications", params={"user": owner, "unread": True}).json())
        == len(box) - 1
    )


def test_status_and_touch_from_the_cli(
    db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("LEADOPS_DATABASE_URL", db_url)
    assert runner.invoke(app, ["org", "apply", str(EXAMPLE)]).exit_code == 0
    leads = tmp_path / "leads.csv"
    leads.write_text("email,company\nsuzuki@shoji.co.jp,商事\n", encoding="utf-8")
    assert runner.invoke(app, ["import", "leads", str(leads)]).exit_code == 0
    touched = runner.invoke(
        app, ["touch", "suzuki@shoji.co.jp", "--channel", "call", "--outcome", "no_answer"]
    )
    assert touched.exit_code == 0, touched.output
    assert "untouched → touch_1, next touch due" in touched.output
    connected = runner.invoke(
        app, ["touch", "suzuki@shoji.co.jp", "--channel", "call", "--outcome", "connected"]
    )
    assert "touch_1 → connected" in connected.output
    no_reason = runner.invoke(app, ["status", "suzuki@shoji.co.jp", "disqualified_sales"])
    assert no_reason.exit_code == 2
    assert "reason: moving a lead to disqualified_sales needs a reason" in no_reason.output
    ok = runner.invoke(
        app, ["status", "suzuki@shoji.co.jp", "disqualified_sales", "--reason", "competitor"]
    )
    assert ok.exit_code == 0
    assert "lead → disqualified_sales" in ok.output  # inside sales took it: a lead
    swept = runner.invoke(app, ["worker", "--now", "2026-12-24T09:00"])
    assert swept.exit_code == 0
    assert "SLA:" in swept.output
