"""Follow-ups from the CLI: ``leadops task add`` (the same one twice is one task), ``task list``
overdue first, ``task done`` twice recorded once, a past due time refused on one line."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from leadops.cli import app

runner = CliRunner()
EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "org.yaml"
JST = ZoneInfo("Asia/Tokyo")


@pytest.mark.parametrize("command", [["task"], ["task", "add"], ["task", "list"], ["task", "done"]])
def test_the_task_commands_have_help(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_a_follow_up_is_scheduled_listed_and_done_from_the_cli(
    db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("LEADOPS_DATABASE_URL", db_url)
    assert runner.invoke(app, ["org", "apply", str(EXAMPLE)]).exit_code == 0
    leads = tmp_path / "leads.csv"
    leads.write_text("email,company\nsuzuki@shoji.co.jp,商事\n", encoding="utf-8")
    assert runner.invoke(app, ["import", "leads", str(leads)]).exit_code == 0
    # The CLI runs on the wall clock: a due time three days from now, in Tokyo.
    due = (datetime.now(UTC) + timedelta(days=3)).astimezone(JST).strftime("%Y-%m-%d 10:00")
    add = ["task", "add", "suzuki@shoji.co.jp", "--due", due, "--note", "再架電"]
    first = runner.invoke(app, add)
    assert first.exit_code == 0, first.output
    assert f"scheduled: suzuki@shoji.co.jp due {due}" in first.output
    again = runner.invoke(app, add)
    assert "was scheduled already" in again.output
    listed = json.loads(runner.invoke(app, ["task", "list", "--format", "json"]).output)
    assert len(listed) == 1
    assert listed[0]["note"] == "再架電"
    assert listed[0]["overdue"] is False
    task_id = str(listed[0]["id"])
    assert "再架電" in runner.invoke(app, ["task", "list"]).output
    done = runner.invoke(app, ["task", "done", task_id])
    assert done.exit_code == 0, done.output
    assert f"task {task_id} done" in done.output
    assert "done already" in runner.invoke(app, ["task", "done", task_id]).output
    assert json.loads(runner.invoke(app, ["task", "list", "--format", "json"]).output) == []
    past = runner.invoke(app, ["task", "add", "suzuki@shoji.co.jp", "--due", "2020-01-01 10:00"])
    assert past.exit_code == 2
    assert "due_at: the due time has passed" in past.output
