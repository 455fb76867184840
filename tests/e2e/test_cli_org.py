"""`leadops org apply` and `org show`: the organisation as data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from leadops.cli import app

runner = CliRunner()
EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "org.yaml"


@pytest.fixture
def env(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("LEADOPS_DATABASE_URL", db_url)
    return db_url


def test_apply_the_seed_departments_twice_and_show_them(env: str) -> None:
    first = runner.invoke(app, ["org", "apply", str(EXAMPLE)])
    assert first.exit_code == 0, first.output
    assert "4 teams and 10 users applied (4 teams and 10 users new)" in first.output
    again = runner.invoke(app, ["org", "apply", str(EXAMPLE)])
    assert "(0 teams and 0 users new)" in again.output
    teams = json.loads(runner.invoke(app, ["org", "show", "--format", "json"]).output)
    by_name = {t["team"]: t for t in teams}
    assert set(by_name) == {
        "マーケティング部",
        "本社営業本部インサイドセールス部",
        "本社営業本部法人営業部",
        "大阪支社営業部",
    }
    osaka = by_name["大阪支社営業部"]
    assert (osaka["kind"], osaka["parent"], osaka["manager"]) == (
        "sales",
        "本社営業本部法人営業部",
        "nishida@example.co.jp",
    )
    inside = {m["email"]: m for m in by_name["本社営業本部インサイドセールス部"]["members"]}
    assert inside["endo@example.co.jp"]["weight"] == 0.5
    (start, end, note) = inside["murakami@example.co.jp"]["out_of_office"][0]
    assert (start[:10], end[:10], note) == (
        "2026-08-09",
        "2026-08-16",
        "夏季休暇",
    )  # JST dates, end inclusive
    shown = runner.invoke(app, ["org", "show"])
    assert "村上 陸 <murakami@example.co.jp> member" in shown.output
    assert "away 08/10–08/17" in shown.output


def test_mistakes_name_the_path(env: str, tmp_path: Path) -> None:
    bad = tmp_path / "org.yaml"
    bad.write_text(
        "teams:\n  - {name: A, kind: sales, manager: boss@x.co.jp}\n"
        "users:\n  - {email: a@x.co.jp, name: A, team: B}\n"
        "  - {email: nope, name: N, role: king}\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["org", "apply", str(bad)])
    assert result.exit_code == 2
    assert "users.1.role" in result.output
    document = (
        "teams:\n  - {name: A, kind: sales, manager: boss@x.co.jp}\nusers:\n  - {email: "
        "a@x.co.jp, name: A, team: B}\n"
    )
    bad.write_text(document, encoding="utf-8")
    result = runner.invoke(app, ["org", "apply", str(bad)])
    assert "users.0.team: no team 'B' in this document" in result.output
    assert "teams.0.manager: no user 'boss@x.co.jp' in this document" in result.output
