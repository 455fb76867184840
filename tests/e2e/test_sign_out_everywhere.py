"""A new password or a deactivation signs the user out everywhere: their web sessions end and their
API tokens are revoked, by every way there is to do it (``leadops users add``, the admin's part of
Settings, the organisation document through the CLI and the API)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from leadops.auth import create_token
from leadops.cli import app
from leadops.models import User
from leadops.runtime import Runtime
from leadops.web.app import create_app
from tests.webapp import EMAILS, PASSWORD, Org, build_org, sign_in_form, signed_in

runner = CliRunner()
NEW_PASSWORD = "a brand new passphrase"


class Rep:
    """The rep, signed in on the web and holding an API token, as the change is made."""

    def __init__(self, runtime: Runtime, org: Org) -> None:
        self.runtime = runtime
        self.web = signed_in(runtime, org.users["member"])
        with runtime.factory() as session, session.begin():
            user = session.get_one(User, org.users["member"])
            self.token, _ = create_token(
                session, user, name="dialer", scope="write", now=runtime.clock.now()
            )

    def reach(self) -> tuple[int, int]:
        """(the queue page, the API with the token): 200 each while signed in."""
        api = TestClient(
            create_app(self.runtime), headers={"Authorization": f"Bearer {self.token}"}
        )
        return self.web.get("/queue").status_code, api.get("/api/v1/leads").status_code


SIGNED_OUT = (303, 401)


@pytest.fixture
def org(runtime: Runtime, session: Any) -> Org:
    return build_org(session, runtime, leads=1)


@pytest.fixture
def env(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("LEADOPS_DATABASE_URL", db_url)
    return db_url


def org_document(*, active: bool) -> dict[str, Any]:
    return {
        "teams": [{"name": "東京IS", "kind": "inside_sales"}],
        "users": [
            {"email": EMAILS["member"], "name": "Member", "team": "東京IS", "active": active}
        ],
    }


def test_a_password_reset_with_users_add_signs_the_user_out_everywhere(
    runtime: Runtime, org: Org, env: str
) -> None:
    rep = Rep(runtime, org)
    assert rep.reach() == (200, 200)
    result = runner.invoke(
        app, ["users", "add", EMAILS["member"], "--password-stdin"], input=f"{NEW_PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    assert rep.reach() == SIGNED_OUT
    fresh = TestClient(create_app(runtime), follow_redirects=False)
    assert sign_in_form(fresh, EMAILS["member"], PASSWORD)[0] == 401
    assert sign_in_form(fresh, EMAILS["member"], NEW_PASSWORD)[0] == 303


def test_a_password_set_by_an_admin_on_settings_signs_the_user_out_everywhere(
    runtime: Runtime, org: Org
) -> None:
    rep = Rep(runtime, org)
    admin = signed_in(runtime, org.users["admin"])
    # Someone else's new password or deactivation leaves the rep signed in.
    other = {"email": EMAILS["member2"], "role": "member", "password": NEW_PASSWORD}
    assert admin.post("/settings/users", data=other).status_code == 200
    assert admin.post(f"/settings/users/{org.users['member2']}/active", data={}).status_code == 200
    assert rep.reach() == (200, 200)
    form = {"email": EMAILS["member"], "role": "member", "password": NEW_PASSWORD}
    answer = admin.post("/settings/users", data=form)
    assert answer.status_code == 200, answer.text
    assert "Account updated" in answer.text
    assert rep.reach() == SIGNED_OUT
    assert admin.get("/settings").status_code == 200  # the admin's own session goes on


def test_a_deactivation_on_settings_ends_access_for_good(runtime: Runtime, org: Org) -> None:
    rep = Rep(runtime, org)
    admin = signed_in(runtime, org.users["admin"])
    member = org.users["member"]
    assert admin.post(f"/settings/users/{member}/active", data={"active": ""}).status_code == 200
    assert rep.reach() == SIGNED_OUT
    # Reactivated, the account signs in again, but what was signed in before stays signed out.
    assert admin.post(f"/settings/users/{member}/active", data={"active": "1"}).status_code == 200
    assert rep.reach() == SIGNED_OUT
    fresh = TestClient(create_app(runtime), follow_redirects=False)
    assert sign_in_form(fresh, EMAILS["member"], PASSWORD)[0] == 303


def test_a_deactivation_in_the_organisation_document_ends_access_for_good(
    runtime: Runtime, org: Org
) -> None:
    rep = Rep(runtime, org)
    admin = signed_in(runtime, org.users["admin"])
    assert admin.put("/api/v1/org", json=org_document(active=False)).status_code == 200
    assert admin.put("/api/v1/org", json=org_document(active=True)).status_code == 200
    assert rep.reach() == SIGNED_OUT


def test_org_apply_on_the_command_line_deactivates_the_same_way(
    runtime: Runtime, org: Org, env: str, tmp_path: Path
) -> None:
    rep = Rep(runtime, org)
    document = tmp_path / "org.yaml"
    document.write_text(yaml.safe_dump(org_document(active=False), allow_unicode=True))
    result = runner.invoke(app, ["org", "apply", str(document)])
    assert result.exit_code == 0, result.output
    with runtime.factory() as session, session.begin():
        session.get_one(User, org.users["member"]).active = True
    assert rep.reach() == SIGNED_OUT
