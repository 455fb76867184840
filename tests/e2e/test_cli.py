"""The CLI as a user runs it: every command has help, imports report, errors are one line."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from leadops.cli import app

runner = CliRunner()


@pytest.fixture
def env(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("LEADOPS_DATABASE_URL", db_url)
    return db_url


COMMANDS = [
    [],
    ["init"],
    ["demo"],
    ["serve"],
    ["bench"],
    ["import"],
    ["import", "leads"],
    ["import", "events"],
    ["import", "deals"],
    ["import", "campaign-members"],
    ["import", "jobs"],
    ["import", "rejects"],
    ["lead"],
    ["lead", "show"],
    ["rules"],
    ["rules", "validate"],
    ["rules", "apply"],
    ["rules", "show"],
    ["rules", "diff"],
    ["rules", "versions"],
    ["worker"],
    ["org"],
    ["org", "apply"],
    ["org", "show"],
    ["predict"],
    ["predict", "train"],
    ["predict", "evaluate"],
    ["predict", "score"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "leadops")
def test_every_command_has_help(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_import_reports_taken_and_rejected_and_exports_rejects(env: str, tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    path.write_bytes(
        "メール,会社名,都道府県\na@x.co.jp,株式会社エックス,大阪\n,名無し,東京\nb@x.co.jp,X,Narnia\n".encode(
            "cp932"
        )
    )
    dry = runner.invoke(app, ["import", "leads", str(path), "--mapping", "salesforce", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert (
        "Dry run (nothing written): 3 rows read (cp932); 2 taken, 0 unchanged, 1 rejected, "
        "1 flagged" in dry.output
    )
    assert "mapping: salesforce" in dry.output
    assert "row 3: email (column 'メール'): missing" in dry.output
    assert "it has a company but no one's name" in dry.output
    assert "row 4: region_outside_japan: 'Narnia' is outside Japan" in dry.output
    real = runner.invoke(
        app, ["import", "leads", str(path), "--mapping", "salesforce", "--format", "json"]
    )
    summary = json.loads(real.output)
    assert (summary["taken"], summary["rejected"], summary["encoding"]) == (2, 1, "cp932")
    assert [f["flag"] for f in summary["flags"]] == ["region_outside_japan"]
    out = tmp_path / "rejects.csv"
    export = runner.invoke(app, ["import", "rejects", str(summary["job_id"]), "--output", str(out)])
    assert export.exit_code == 0, export.output
    rows = list(csv.reader(out.read_text(encoding="utf-8-sig").splitlines()))
    assert rows[0] == ["row", "field", "error", "メール", "会社名", "都道府県"]
    assert rows[1][:2] == ["3", "email"]
    assert rows[1][2].startswith("email (column 'メール'): missing")
    assert rows[1][3:] == ["", "名無し", "東京"]
    assert len(rows) == 2
    jobs = runner.invoke(app, ["import", "jobs"])
    assert "done" in jobs.output
    assert f"│ {summary['job_id']} " in jobs.output


def test_lead_show_as_json_and_table(env: str, tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text(
        json.dumps(
            {
                "email": "a@x.co.jp",
                "type": "trial_signup",
                "occurred_at": "2026-11-01T10:00:00+09:00",
            }
        ),
        encoding="utf-8",
    )
    assert runner.invoke(app, ["import", "events", str(path)]).exit_code == 0
    shown = runner.invoke(app, ["lead", "show", "A@X.co.jp", "--format", "json"])
    detail = json.loads(shown.output)
    assert detail["lead"]["email"] == "a@x.co.jp"
    assert [a["type"] for a in detail["activities"]] == ["trial_signup"]
    table = runner.invoke(app, ["lead", "show", "a@x.co.jp"])
    assert "trial_signup" in table.output


def test_errors_are_one_line_and_exit_2(env: str, tmp_path: Path) -> None:
    missing = runner.invoke(app, ["lead", "show", "ghost@x.co.jp"])
    assert missing.exit_code == 2
    assert "no lead 'ghost@x.co.jp'" in missing.output
    bad_mapping = runner.invoke(
        app, ["import", "leads", str(tmp_path / "x.csv"), "--mapping", "oracle"]
    )
    assert bad_mapping.exit_code == 2
    assert "not a preset" in bad_mapping.output
    no_file = runner.invoke(app, ["import", "leads", str(tmp_path / "none.csv")])
    assert no_file.exit_code == 2
    assert "no such file" in no_file.output


def test_demo_builds_a_small_world_and_refuses_to_overwrite(env: str) -> None:
    result = runner.invoke(app, ["demo", "--leads", "300"])
    assert result.exit_code == 0, result.output
    assert "300 leads at 90 companies" in result.output
    again = runner.invoke(app, ["demo", "--leads", "300"])
    assert again.exit_code == 2
    assert "--force" in again.output


def test_without_a_mapping_the_import_says_which_preset_the_headers_fit(
    env: str, tmp_path: Path
) -> None:
    fixtures = Path(__file__).resolve().parents[1] / "fixtures" / "imports"
    result = runner.invoke(
        app, ["import", "leads", str(fixtures / "hubspot_contacts_with_company.csv"), "--dry-run"]
    )
    assert result.exit_code == 0, result.output
    assert "mapping: recognised as hubspot: it reads 16 of the file's 23 columns" in result.output
    assert "column 'Create Date': dates read month first (M/D/Y)" in result.output
    assert "not read by the mapping, kept as custom fields: Country/Region" in result.output
    ambiguous = tmp_path / "leads.csv"
    ambiguous.write_text("Email,Lead Source,Lead Status\na@x.co.jp,Web,New\n", encoding="utf-8")
    asked = runner.invoke(app, ["import", "leads", str(ambiguous)])
    assert asked.exit_code == 2
    assert "the headers fit salesforce and marketo equally" in asked.output
    assert "give --mapping salesforce or --mapping marketo" in asked.output
    unknown = tmp_path / "kunden.csv"
    unknown.write_text("Mail,Firma\na@x.co.jp,X\n", encoding="utf-8")
    refused = runner.invoke(app, ["import", "leads", str(unknown)])
    assert refused.exit_code == 2
    assert "no preset recognises the headers (Mail, Firma)" in refused.output
