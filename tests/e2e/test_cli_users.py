"""``leadops users add`` / ``users list``: accounts with an Argon2id password, idempotent by e-mail,
and bad input named by its field."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from leadops.auth import verify_password
from leadops.cli import app
from leadops.models import User

runner = CliRunner()


@pytest.fixture
def env(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("LEADOPS_DATABASE_URL", db_url)
    return db_url


def stored(db_url: str, email: str) -> User | None:
    engine = create_engine(db_url)
    try:
        with Session(engine) as session:
            return session.execute(select(User).where(User.email == email)).scalar_one_or_none()
    finally:
        engine.dispose()


def test_users_add_creates_then_updates_one_account(env: str) -> None:
    result = runner.invoke(
        app,
        [
            "users",
            "add",
            "Sato@Example.co.jp",
            "--role",
            "manager",
            "--name",
            "佐藤",
            "--password-stdin",
        ],
        input="s3cret-password\n",
    )
    assert result.exit_code == 0, result.output
    assert "created sato@example.co.jp (manager)" in result.output
    user = stored(env, "sato@example.co.jp")
    assert user is not None
    assert (user.role, user.name) == ("manager", "佐藤")
    assert user.password_hash is not None
    assert user.password_hash.startswith("$argon2id$")
    assert verify_password(user.password_hash, "s3cret-password")

    again = runner.invoke(
        app,
        ["users", "add", "sato@example.co.jp", "--role", "admin", "--password-stdin"],
        input="another-password\n",
    )
    assert again.exit_code == 0, again.output
    assert "updated sato@example.co.jp (admin)" in again.output
    user = stored(env, "sato@example.co.jp")
    assert user is not None
    assert (user.role, user.name) == ("admin", "佐藤")
    assert not verify_password(user.password_hash, "s3cret-password")
    assert verify_password(user.password_hash, "another-password")

    listed = runner.invoke(app, ["users", "list", "--format", "json"])
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.output) == [
        {
            "email": "sato@example.co.jp",
            "name": "佐藤",
            "role": "admin",
            "team": None,
            "active": True,
            "can_sign_in": True,
        }
    ]


def test_users_add_names_each_bad_field(env: str) -> None:
    result = runner.invoke(
        app,
        [
            "users",
            "add",
            "not-an-address",
            "--role",
            "boss",
            "--team",
            "営業部",
            "--password-stdin",
        ],
        input="short\n",
    )
    assert result.exit_code == 2
    message = " ".join(result.output.split())
    assert "email:" in message
    assert "role: expected one of admin, manager, member, marketing, got 'boss'" in message
    assert "password: at least 10 characters, got 5" in message
    assert "team: no team named '営業部'" in message
    listed = runner.invoke(app, ["users", "list", "--format", "json"])
    assert json.loads(listed.output) == []
