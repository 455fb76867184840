"""Every command and every setting is documented in the README."""

from __future__ import annotations

from pathlib import Path

import typer

from leadops.cli import app
from leadops.config import Settings
from leadops.ingest.mappings import all_presets

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def command_paths(typer_app: typer.Typer, prefix: str = "leadops") -> list[str]:
    paths = []
    for command in typer_app.registered_commands:
        name = command.name or (
            command.callback.__name__.replace("_", "-") if command.callback else ""
        )
        paths.append(f"{prefix} {name}")
    for group in typer_app.registered_groups:
        assert group.typer_instance is not None
        paths.extend(command_paths(group.typer_instance, f"{prefix} {group.name}"))
    return paths


def test_every_cli_command_is_in_the_readme() -> None:
    paths = command_paths(app)
    assert len(paths) >= 11
    missing = [p for p in paths if f"`{p}" not in README]
    assert missing == []


def test_every_setting_is_in_the_readme() -> None:
    missing = [name for name in Settings.model_fields if f"LEADOPS_{name.upper()}" not in README]
    assert missing == []


def test_readme_shows_the_two_commands_first() -> None:
    head = README[:1200]
    assert "make run" in head
    assert "make test" in head


def test_every_import_preset_is_in_the_imports_guide() -> None:
    guide = (ROOT / "docs" / "imports.md").read_text(encoding="utf-8")
    missing = [name for name in ("default", *all_presets()) if f"| `{name}` |" not in guide]
    assert missing == []
