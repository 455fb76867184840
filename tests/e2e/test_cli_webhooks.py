"""``leadops webhooks add / list / rotate / remove / refusals``: a source's secret printed once,
never listed, rotated with a grace period, and each mistake named."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from leadops.cli import app
from leadops.models import WebhookSource

runner = CliRunner()


@pytest.fixture
def env(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("LEADOPS_DATABASE_URL", db_url)
    monkeypatch.setenv("LEADOPS_PUBLIC_URL", "https://leadops.example.com")
    return db_url


def stored(db_url: str, name: str) -> WebhookSource | None:
    engine = create_engine(db_url)
    try:
        with Session(engine) as session:
            return session.scalar(select(WebhookSource).where(WebhookSource.name == name))
    finally:
        engine.dispose()


def _secret(output: str) -> str:
    found = re.search(r"^\s+(whsec_\S+)$", output, re.MULTILINE)
    assert found is not None, output
    return found.group(1)


@pytest.mark.parametrize("command", ["add", "list", "rotate", "remove", "refusals"])
def test_every_webhooks_command_has_help(command: str) -> None:
    result = runner.invoke(app, ["webhooks", command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_add_prints_the_secret_once_and_the_url_and_list_never_shows_it(env: str) -> None:
    added = runner.invoke(app, ["webhooks", "add", "site-form", "--kind", "form"])
    assert added.exit_code == 0, added.output
    secret = _secret(added.output)
    assert "POST https://leadops.example.com/api/v1/webhooks/site-form" in added.output
    assert "X-Leadops-Signature" in added.output
    source = stored(env, "site-form")
    assert source is not None
    assert (source.kind, source.secret) == ("form", secret)
    listed = runner.invoke(app, ["webhooks", "list"])
    assert listed.exit_code == 0, listed.output
    assert "site-form" in listed.output
    assert secret not in listed.output
    as_json = runner.invoke(app, ["webhooks", "list", "--format", "json"])
    [row] = json.loads(as_json.output)
    assert (row["name"], row["kind"], row["path"]) == (
        "site-form",
        "form",
        "/api/v1/webhooks/site-form",
    )
    assert secret not in as_json.output


def test_rotate_prints_a_new_secret_and_keeps_the_old_one_for_the_grace_period(env: str) -> None:
    old = _secret(runner.invoke(app, ["webhooks", "add", "crm"]).output)
    rotated = runner.invoke(app, ["webhooks", "rotate", "crm", "--grace-hours", "2"])
    assert rotated.exit_code == 0, rotated.output
    new = _secret(rotated.output)
    assert new != old
    assert "The old secret is accepted until" in rotated.output
    source = stored(env, "crm")
    assert source is not None
    assert (source.secret, source.previous_secret) == (new, old)
    assert source.rotated_at is not None
    assert source.previous_valid_until is not None
    assert source.previous_valid_until - source.rotated_at == timedelta(hours=2)
    at_once = runner.invoke(app, ["webhooks", "rotate", "crm", "--grace-hours", "0"])
    assert "no longer accepted" in at_once.output
    source = stored(env, "crm")
    assert source is not None
    assert source.previous_secret is None


def test_a_hubspot_source_takes_the_app_secret_from_standard_input(env: str) -> None:
    refused = runner.invoke(app, ["webhooks", "add", "hubspot", "--kind", "hubspot"])
    assert refused.exit_code == 2
    assert "client secret" in refused.output
    assert stored(env, "hubspot") is None
    secret = "0f6c2a4e-7d1b-4c39-9e8a-5b2d7f1c3a60"
    added = runner.invoke(
        app, ["webhooks", "add", "hubspot", "--kind", "hubspot", "--secret-stdin"], input=secret
    )
    assert added.exit_code == 0, added.output
    assert "X-HubSpot-Signature-v3" in added.output
    source = stored(env, "hubspot")
    assert source is not None
    assert source.secret == secret


def test_remove_deletes_the_source(env: str) -> None:
    runner.invoke(app, ["webhooks", "add", "crm"])
    removed = runner.invoke(app, ["webhooks", "remove", "crm"])
    assert removed.exit_code == 0, removed.output
    assert stored(env, "crm") is None
    again = runner.invoke(app, ["webhooks", "remove", "crm"])
    assert again.exit_code == 2
    assert "no webhook source 'crm'" in again.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["webhooks", "add", "Site Form"], "is not a source name"),
        (["webhooks", "add", "refusals"], "reserved"),
        (["webhooks", "add", "crm", "--kind", "zapier"], "unknown kind 'zapier'"),
        (["webhooks", "rotate", "nowhere"], "no webhook source 'nowhere'"),
        (["webhooks", "rotate", "crm", "--grace-hours", "-1"], "must not be negative"),
    ],
)
def test_mistakes_are_named_in_one_line(env: str, args: list[str], message: str) -> None:
    runner.invoke(app, ["webhooks", "add", "crm"])
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_a_duplicate_name_is_refused_with_the_way_to_a_new_secret(env: str) -> None:
    runner.invoke(app, ["webhooks", "add", "crm"])
    again = runner.invoke(app, ["webhooks", "add", "crm"])
    assert again.exit_code == 2
    assert "webhooks rotate crm" in again.output


def test_a_given_secret_too_short_is_refused(env: str) -> None:
    result = runner.invoke(app, ["webhooks", "add", "crm", "--secret-stdin"], input="short\n")
    assert result.exit_code == 2
    assert "at least 16" in result.output


def test_refusals_lists_what_was_refused(env: str) -> None:
    runner.invoke(app, ["webhooks", "add", "crm"])
    empty = runner.invoke(app, ["webhooks", "refusals", "--format", "json"])
    assert empty.exit_code == 0, empty.output
    assert json.loads(empty.output) == []
