"""``leadops rules preview``: what applying a document would change, computed without writing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, text
from typer.testing import CliRunner

from leadops.cli import app
from leadops.rules.loader import default_rules_text

runner = CliRunner()
#: A free trial worth 60 instead of 25, and MQL from 70 points instead of 100.
CHANGED = (
    default_rules_text()
    .replace("      points: 25\n", "      points: 60\n", 1)
    .replace("mql_score: 100", "mql_score: 70", 1)
)


@pytest.fixture
def env(db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    monkeypatch.setenv("LEADOPS_DATABASE_URL", db_url)
    events = {
        "a@x.co.jp": ["content_download", "email_click", "trial_signup"],  # 40: warm
        "b@x.co.jp": ["email_click"],  # 5: cold, not a trial
        "c@x.co.jp": ["trial_signup"],  # 25: cold
    }
    rows = [
        {
            "email": email,
            "type": kind,
            "occurred_at": f"2026-11-20T1{i}:00:00+09:00",
            "external_id": f"{email}-{i}",
        }
        for email, kinds in events.items()
        for i, kind in enumerate(kinds)
    ]
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    imported = runner.invoke(app, ["import", "events", str(path)])
    assert imported.exit_code == 0, imported.output
    return db_url


def _everything(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, to compare the database before and after."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            names = inspect(connection).get_table_names()
            return {
                name: sorted(
                    (
                        tuple(str(v) for v in row)
                        for row in connection.execute(text(f'SELECT * FROM "{name}"'))
                    ),
                )
                for name in names
            }
    finally:
        engine.dispose()


def _lead(email: str) -> dict[str, Any]:
    shown = runner.invoke(app, ["lead", "show", email, "--format", "json"])
    assert shown.exit_code == 0, shown.output
    lead: dict[str, Any] = json.loads(shown.output)["lead"]
    return lead


def test_a_preview_says_what_would_change_and_writes_nothing(env: str, tmp_path: Path) -> None:
    document = tmp_path / "rules.yaml"
    document.write_text(CHANGED, encoding="utf-8")
    before = _everything(env)
    previewed = runner.invoke(app, ["rules", "preview", str(document), "--format", "json"])
    assert previewed.exit_code == 0, previewed.output
    assert _everything(env) == before  # not a row written, not a version added
    found = json.loads(previewed.output)
    assert (found["active_version"], found["leads"]) == (1, 3)
    assert found["score"]["changed"] == 2
    assert (found["score"]["up"], found["score"]["down"], found["score"]["mean_change"]) == (
        2,
        0,
        35.0,
    )
    assert found["score"]["bands"] == [{"band": "+10 to +49", "leads": 2}]
    moves = {(c["field"], c["from"], c["to"]): c for c in found["changes"]}
    assert moves[("temperature", "cold", "warm")]["count"] == 1
    assert [e["email"] for e in moves[("temperature", "cold", "warm")]["examples"]] == ["c@x.co.jp"]
    assert moves[("lifecycle_stage", "inquiry", "mql")]["examples"][0]["email"] == "a@x.co.jp"

    table = runner.invoke(app, ["rules", "preview", str(document)])
    assert "score: 2 leads change (2 up, 0 down, mean +35.0)" in table.output
    assert "nothing was written" in table.output

    # Applying it does what the preview said.
    applied = runner.invoke(app, ["rules", "apply", str(document), "--comment", "trials count"])
    assert applied.exit_code == 0, applied.output
    a, c = _lead("a@x.co.jp"), _lead("c@x.co.jp")
    assert (a["score"], a["lifecycle_stage"]) == (75, "mql")
    assert (c["score"], c["temperature"]) == (60, "warm")


def test_a_preview_of_the_active_document_changes_nothing(env: str, tmp_path: Path) -> None:
    document = tmp_path / "rules.yaml"
    document.write_text(default_rules_text(), encoding="utf-8")
    table = runner.invoke(app, ["rules", "preview", str(document)])
    assert table.exit_code == 0, table.output
    assert "nothing would change" in table.output
    bad = tmp_path / "bad.yaml"
    bad.write_text(CHANGED.replace("mql_score: 70", "mql_score: lots"), encoding="utf-8")
    refused = runner.invoke(app, ["rules", "preview", str(bad)])
    assert refused.exit_code == 2
    assert "mql_score" in refused.output


ORG = Path(__file__).resolve().parents[2] / "docs" / "examples" / "org.yaml"


def test_a_preview_runs_routing_dry(
    db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("LEADOPS_DATABASE_URL", db_url)
    assert runner.invoke(app, ["org", "apply", str(ORG)]).exit_code == 0
    path = tmp_path / "events.jsonl"
    row = {
        "email": "dl@x.co.jp",
        "type": "content_download",
        "occurred_at": "2026-11-20T10:00:00+09:00",
        "external_id": "dl-1",
    }
    path.write_text(json.dumps(row) + "\n", encoding="utf-8")
    assert runner.invoke(app, ["import", "events", str(path)]).exit_code == 0
    assert _lead("dl@x.co.jp")["level"] == 2
    # A download no longer shows level 2: the lead would go back to marketing.
    lowered = default_rules_text().replace(
        "  - id: level-2-download-mail\n    level: 2\n",
        "  - id: level-2-download-mail\n    level: 1\n",
        1,
    )
    assert lowered != default_rules_text()
    document = tmp_path / "rules.yaml"
    document.write_text(lowered, encoding="utf-8")
    before = _everything(db_url)
    previewed = runner.invoke(app, ["rules", "preview", str(document), "--format", "json"])
    assert previewed.exit_code == 0, previewed.output
    assert _everything(db_url) == before
    moves = {
        (c["field"], c["from"], c["to"]): c["count"]
        for c in json.loads(previewed.output)["changes"]
    }
    assert moves[("level", 2, 1)] == 1
    team = next(k for k in moves if k[0] == "team_id")
    assert team[2] == "マーケティング部"
    assert (
        runner.invoke(
            app, ["rules", "apply", str(document), "--comment", "downloads are level 1"]
        ).exit_code
        == 0
    )
    assert _lead("dl@x.co.jp")["level"] == 1


def test_a_backtest_says_which_document_would_have_predicted_the_appointments(
    db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("LEADOPS_DATABASE_URL", db_url)
    created = datetime.now(UTC) - timedelta(days=40)
    # Three leads that signed up for a trial and came to an appointment; three that only
    # clicked e-mails and did not.
    kinds = {f"t{n}@x.co.jp": "trial_signup" for n in range(3)}
    kinds |= {f"c{n}@x.co.jp": "email_click" for n in range(3)}
    leads = tmp_path / "leads.csv"
    leads.write_text(
        "email,company,created_at\n"
        + "".join(f"{e},株式会社X,{created:%Y-%m-%d %H:%M}\n" for e in kinds),
        encoding="utf-8",
    )
    assert runner.invoke(app, ["import", "leads", str(leads)]).exit_code == 0
    events = tmp_path / "events.jsonl"
    at = (created + timedelta(days=2)).isoformat()
    events.write_text(
        "".join(
            json.dumps({"email": e, "type": k, "occurred_at": at, "external_id": e}) + "\n"
            for e, k in kinds.items()
        ),
        encoding="utf-8",
    )
    assert runner.invoke(app, ["import", "events", str(events)]).exit_code == 0
    engine = create_engine(db_url)
    with engine.begin() as connection:  # their history: appointments three weeks after creation
        for email in [e for e in kinds if e.startswith("t")]:
            lead_id = connection.execute(
                text("SELECT id FROM leads WHERE email = :e"), {"e": email}
            ).scalar_one()
            booked = created + timedelta(days=21)
            connection.execute(
                text(
                    "INSERT INTO opportunities (lead_id, stage, created_at, stage_changed_at, "
                    "custom, flags) VALUES (:l, 'to_contact', :at, :at, '{}', '[]')"
                ),
                {"l": lead_id, "at": booked},
            )
    engine.dispose()
    # A draft that scores clicks above trials predicts the opposite.
    upside_down = (
        default_rules_text()
        .replace("      points: 25\n", "      points: 0\n", 1)
        .replace("      points: 5\n", "      points: 50\n", 1)
    )
    document = tmp_path / "rules.yaml"
    document.write_text(upside_down, encoding="utf-8")
    before = _everything(db_url)
    found = runner.invoke(app, ["rules", "backtest", str(document), "--format", "json"])
    assert found.exit_code == 0, found.output
    assert _everything(db_url) == before
    result = json.loads(found.output)
    assert (result["leads"], result["converted"], result["days"]) == (6, 3, 14)
    assert result["active"]["auc"] == 1.0
    assert result["draft"]["auc"] == 0.0
    cold = next(b for b in result["active"]["by_temperature"] if b["band"] == "cold")
    assert (cold["leads"], cold["converted"]) == (6, 3)
    assert sum(t["leads"] for t in result["draft"]["teams"]) == 6
    table = runner.invoke(app, ["rules", "backtest", str(document), "--days", "30"])
    assert table.exit_code == 0, table.output
    assert "AUC" in table.output
    late = runner.invoke(app, ["rules", "backtest", str(document), "--since", "2026-13-01"])
    assert late.exit_code == 2
    assert "--since" in late.output
