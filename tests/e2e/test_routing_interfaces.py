"""Routing through the REST API and the CLI: organisation, explain, manual reassign, `route`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from leadops.cli import app

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "org.yaml"
IS_TEAM = "本社営業本部インサイドセールス部"
runner = CliRunner()


def test_org_routing_and_reassign_over_the_api(client: TestClient) -> None:
    bad = client.put(
        "/api/v1/org",
        json={
            "teams": [{"name": "X", "kind": "sales"}],
            "users": [{"email": "a@x.jp", "name": "A", "team": "Y"}],
        },
    )
    assert bad.status_code == 422
    assert {d["path"] for d in bad.json()["detail"]} == {"users.0.team"}
    document = json.loads(
        json.dumps(yaml.safe_load(EXAMPLE.read_text(encoding="utf-8")), default=str)
    )
    applied = client.put("/api/v1/org", json=document)
    assert applied.status_code == 200, applied.text
    assert applied.json()["created"] == {"teams": 4, "users": 10}
    assert {t["team"] for t in client.get("/api/v1/org").json()} >= {IS_TEAM, "大阪支社営業部"}

    client.put(
        "/api/v1/leads",
        json={"email": "kimura@kobe-denki.co.jp", "company": "神戸電機", "prefecture": "兵庫県"},
    )
    lead = client.get("/api/v1/leads/kimura@kobe-denki.co.jp").json()["lead"]
    assert lead["team"] == IS_TEAM
    assert lead["owner"] is not None
    [decision] = client.get("/api/v1/leads/kimura@kobe-denki.co.jp/routing").json()
    assert decision["rule"] == "default-inside-sales"
    assert sorted(c["result"] for c in decision["candidates"]).count("chosen") == 1

    target = (
        "endo@example.co.jp"
        if decision["user"] != "endo@example.co.jp"
        else "hasegawa@example.co.jp"
    )
    body = {"to": target, "by": "ishii@example.co.jp", "reason": "担当替え"}
    forbidden = client.post("/api/v1/leads/kimura@kobe-denki.co.jp/reassign", json=body)
    assert forbidden.status_code == 403
    assert forbidden.json()["error"] == "forbidden"
    missing = client.post(
        "/api/v1/leads/kimura@kobe-denki.co.jp/reassign", json={"to": target, "by": "x@y.jp"}
    )
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["path"] == "reason"
    body["by"] = "fujii@example.co.jp"
    moved = client.post("/api/v1/leads/kimura@kobe-denki.co.jp/reassign", json=body)
    assert moved.status_code == 200
    assert moved.json()["changed"] is True
    again = client.post("/api/v1/leads/kimura@kobe-denki.co.jp/reassign", json=body)
    assert again.json()["changed"] is False
    latest = client.get("/api/v1/leads/kimura@kobe-denki.co.jp/routing").json()[0]
    assert (latest["strategy"], latest["user"], latest["reason"]) == ("manual", target, "担当替え")
    history = client.get("/api/v1/leads/kimura@kobe-denki.co.jp").json()["events"]
    assert any(
        e["kind"] == "owner" and e["to"] == target and e["reason"] == "担当替え" for e in history
    )


def test_cli_routes_later_explains_and_reassigns(
    db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("LEADOPS_DATABASE_URL", db_url)
    leads = tmp_path / "leads.csv"
    leads.write_text(
        "email,company,prefecture\nsato@kansai-kikai.co.jp,関西機械,大阪府\n", encoding="utf-8"
    )
    assert runner.invoke(app, ["import", "leads", str(leads)]).exit_code == 0
    waiting = runner.invoke(app, ["route"])
    assert waiting.exit_code == 1
    assert "1 × team '本社営業本部インサイドセールス部'" in waiting.output
    assert runner.invoke(app, ["org", "apply", str(EXAMPLE)]).exit_code == 0
    routed = runner.invoke(app, ["route"])
    assert routed.exit_code == 0, routed.output
    assert "1 assigned" in routed.output
    shown = runner.invoke(app, ["lead", "show", "sato@kansai-kikai.co.jp", "--explain"])
    assert "rule default-inside-sales, round_robin" in shown.output
    assert ": chosen" in shown.output
    detail = json.loads(
        runner.invoke(
            app, ["lead", "show", "sato@kansai-kikai.co.jp", "--explain", "--format", "json"]
        ).output
    )
    owner = detail["routing"][0]["user"]
    target = "endo@example.co.jp" if owner != "endo@example.co.jp" else "hasegawa@example.co.jp"
    denied = runner.invoke(
        app,
        [
            "lead",
            "reassign",
            "sato@kansai-kikai.co.jp",
            "--to",
            target,
            "--by",
            "matsui@example.co.jp",
            "--reason",
            "x",
        ],
    )
    assert denied.exit_code == 2
    assert "may not reassign" in denied.output
    done = runner.invoke(
        app,
        [
            "lead",
            "reassign",
            "sato@kansai-kikai.co.jp",
            "--to",
            target,
            "--by",
            "fujii@example.co.jp",
            "--reason",
            "顧客の希望",
        ],
    )
    assert done.exit_code == 0
    assert f"reassigned to {target}" in done.output
    shown = runner.invoke(app, ["lead", "show", "sato@kansai-kikai.co.jp", "--explain"])
    assert f"→ {target} in {IS_TEAM}" in shown.output
    assert "manual: 顧客の希望" in shown.output
