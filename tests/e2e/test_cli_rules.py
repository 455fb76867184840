"""The rules commands, explain and the worker, as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from leadops.cli import app
from leadops.rules.loader import default_rules_text

runner = CliRunner()


@pytest.fixture
def env(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("LEADOPS_DATABASE_URL", db_url)
    return db_url


def events_file(tmp_path: Path) -> Path:
    path = tmp_path / "events.jsonl"
    rows = [
        {
            "email": "a@x.co.jp",
            "type": t,
            "occurred_at": f"2026-11-20T1{i}:00:00+09:00",
            "external_id": f"e{i}",
        }
        for i, t in enumerate(["content_download", "email_click", "trial_signup"])
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def test_validate_reports_each_error_with_its_line(env: str, tmp_path: Path) -> None:
    good = tmp_path / "rules.yaml"
    good.write_text(default_rules_text(), encoding="utf-8")
    ok = runner.invoke(app, ["rules", "validate", str(good)])
    assert ok.exit_code == 0, ok.output
    assert "valid" in ok.output
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        default_rules_text().replace("      points: 10\n", "      points: lots\n", 1),
        encoding="utf-8",
    )
    failed = runner.invoke(app, ["rules", "validate", str(bad)])
    assert failed.exit_code == 2
    line = default_rules_text().splitlines().index("      points: 10") + 1
    assert (
        f"scoring.behavior[5].points: expected a number, got 'lots', line {line}" in failed.output
    )


def test_apply_makes_a_new_version_and_rescores(env: str, tmp_path: Path) -> None:
    assert runner.invoke(app, ["import", "events", str(events_file(tmp_path))]).exit_code == 0
    before = json.loads(
        runner.invoke(app, ["lead", "show", "a@x.co.jp", "--explain", "--format", "json"]).output
    )
    assert before["lead"]["score"] == 40
    assert sum(line["delta"] for line in before["explain"]["lines"]) == 40
    changed = tmp_path / "rules.yaml"
    changed.write_text(default_rules_text().replace("points: 25", "points: 60"), encoding="utf-8")
    uncommented = runner.invoke(app, ["rules", "apply", str(changed)])
    assert uncommented.exit_code == 2
    assert "comment: a comment is required" in uncommented.output
    applied = runner.invoke(
        app,
        ["rules", "apply", str(changed), "--author", "mops@example.co.jp", "--comment", "trials"],
    )
    assert applied.exit_code == 0, applied.output
    assert "rules v2 is active; rescored 1 leads" in applied.output
    after = json.loads(
        runner.invoke(app, ["lead", "show", "a@x.co.jp", "--explain", "--format", "json"]).output
    )
    assert (after["lead"]["score"], after["explain"]["rules_version"]) == (75, 2)
    table = runner.invoke(app, ["lead", "show", "a@x.co.jp", "--explain"])
    assert "free-trial" in table.output
    assert "75" in table.output
    diff = runner.invoke(app, ["rules", "diff", "1", "2"])
    assert "-      points: 25" in diff.output
    assert "+      points: 60" in diff.output
    shown = runner.invoke(app, ["rules", "show", "--version", "1"])
    assert shown.output.startswith("# rules v1, by leadops")
    assert "points: 25" in shown.output
    versions = runner.invoke(app, ["rules", "versions"])
    assert "mops@example.co.jp" in versions.output
    # The same document again (its comments and layout aside) would add an empty version.
    same = tmp_path / "same.yaml"
    same.write_text("# again\n" + changed.read_text(encoding="utf-8"), encoding="utf-8")
    refused = runner.invoke(app, ["rules", "apply", str(same), "--comment", "again"])
    assert refused.exit_code == 2
    assert "no change: the document says what the active version 2 says" in refused.output
    assert "rules v3" not in runner.invoke(app, ["rules", "versions"]).output


def test_the_worker_sweeps_at_a_given_time_once(env: str, tmp_path: Path) -> None:
    runner.invoke(app, ["import", "events", str(events_file(tmp_path))])
    first = runner.invoke(app, ["worker", "--now", "2027-01-01T09:00:00+09:00"])
    assert first.exit_code == 0, first.output
    assert "decay/expiry on 1 leads" in first.output
    again = runner.invoke(app, ["worker", "--now", "2027-01-01T09:00:00+09:00"])
    assert "decay/expiry on 0 leads, 0 lines" in again.output
    bad = runner.invoke(app, ["worker", "--now", "soon"])
    assert bad.exit_code == 2
    assert "--now: not a date" in bad.output
