"""Signing in, sessions, CSRF, API tokens and the role table, walked over every route of the app."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select

from leadops.auth import create_token
from leadops.models import User, WebSession
from leadops.runtime import Runtime
from leadops.web.app import create_app
from leadops.web.security import PERMISSIONS, SESSION_COOKIE, permission_of
from tests.webapp import EMAILS, PASSWORD, build_org, sign_in_form, signed_in

#: Routes anyone may use: signing in, health, the API's own documentation, static files.
PUBLIC = {
    ("GET", "/signin"),
    ("POST", "/signin"),
    ("GET", "/healthz"),
    ("GET", "/api/openapi.json"),
    ("GET", "/api/docs"),
}
#: Routes authenticated by the signature each request carries, not by a user: the webhook URL
#: (tests/e2e/test_webhooks.py checks that an unsigned request is 401 and recorded).
SIGNED = {("POST", "/api/v1/webhooks/{source}")}
SAMPLE = {
    "ref": "lead0@customer0.co.jp",
    "account_id": "1",
    "lead_id": "1",
    "name": "funnel",
    "job_id": "1",
    "notification_id": "1",
    "opportunity_id": "1",
    "task_id": "1",
    "token_id": "1",
    "user_id": "999",
    "view_id": "1",
    "ticket": "none",
}


def _permission(route: APIRoute) -> str | None:
    for dependency in route.dependant.dependencies:
        found = permission_of(dependency.call) if dependency.call else None
        if found:
            return found
    return None


def _routes(runtime: Runtime) -> list[tuple[str, str, APIRoute]]:
    """(method, full path, route) of every API route and page, included routers unfolded."""
    app = create_app(runtime)
    found: list[tuple[str, APIRoute]] = []
    for route in app.routes:
        if isinstance(route, APIRoute):
            found.append((route.path, route))
        elif hasattr(route, "effective_route_contexts"):
            found += [
                (c.path, c.original_route)
                for c in route.effective_route_contexts()
                if isinstance(c.original_route, APIRoute)
            ]
    out = [
        (method, path, route)
        for path, route in found
        for method in sorted(route.methods - {"HEAD"})
    ]
    assert len(out) > 40
    return out


def _url(path: str) -> str:
    for key, value in SAMPLE.items():
        path = path.replace(f"{{{key}}}", value).replace(f"{{{key}:int}}", value)
    return path


def test_every_route_is_public_or_names_a_permission(runtime: Runtime) -> None:
    unguarded = [
        (m, p)
        for m, p, r in _routes(runtime)
        if _permission(r) is None and (m, p) not in PUBLIC | SIGNED
    ]
    assert unguarded == []


def test_each_role_reaches_exactly_the_routes_its_permissions_allow(
    runtime: Runtime, session: Any
) -> None:
    org = build_org(session, runtime, leads=1)
    clients = {
        role: signed_in(runtime, org.users[role])
        for role in ("member", "manager", "marketing", "admin")
    }
    anonymous = TestClient(create_app(runtime), follow_redirects=False)
    checked = 0
    for method, path, route in _routes(runtime):
        permission = _permission(route)
        if permission is None:
            continue
        url = _url(path)
        body: dict[str, Any] = {"json": {}} if path.startswith("/api/") else {"data": {}}
        nobody = anonymous.request(method, url, **body)
        if path.startswith("/api/"):
            assert nobody.status_code == 401, (method, path)
        else:
            assert nobody.status_code == 303, (method, path)
            assert nobody.headers["location"].startswith("/signin"), (method, path)
        allowed = PERMISSIONS[permission][0]
        for role, client in clients.items():
            if (method, path) == ("POST", "/signout"):
                continue  # walked below, since it ends the session
            answer = client.request(method, url, **body)
            if role in allowed:
                assert answer.status_code not in (401, 403), (role, method, path, answer.text[:300])
            else:
                assert answer.status_code == 403, (role, method, path, answer.status_code)
            checked += 1
    assert checked > 150


def test_signing_in_sets_an_httponly_samesite_cookie_and_keeps_only_its_hash(
    runtime: Runtime, session: Any
) -> None:
    build_org(session, runtime)
    client = TestClient(
        create_app(runtime), follow_redirects=False, headers={"Accept-Language": "en"}
    )
    status, where = sign_in_form(client, EMAILS["member"], "wrong password!")
    assert status == 401
    assert "Wrong e-mail or password" in where
    status, where = sign_in_form(client, "nobody@firm.test", PASSWORD)
    assert status == 401
    page = client.get("/signin")
    answer = client.post(
        "/signin",
        data={
            "email": EMAILS["member"],
            "password": PASSWORD,
            "next": "/queue",
            "csrf_token": page.cookies.get("leadops_signin") or "x",
        },
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/queue"
    cookie = next(
        h
        for k, h in answer.headers.multi_items()
        if k == "set-cookie" and h.startswith(SESSION_COOKIE)
    )
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Path=/" in cookie
    secret = cookie.split(";")[0].split("=", 1)[1]
    stored = session.scalars(select(WebSession.token_hash)).all()
    assert hashlib.sha256(secret.encode()).hexdigest() in stored
    assert secret not in stored
    assert client.get("/queue").status_code == 200
    # Signing out needs the CSRF token too, and ends the session for good.
    assert client.post("/signout").status_code == 403
    queue = client.get("/queue").text
    token = queue.split('name="csrf_token" value="')[1].split('"')[0]
    assert client.post("/signout", data={"csrf_token": token}).status_code == 303
    client.cookies.set(SESSION_COOKIE, secret)
    assert client.get("/queue").status_code == 303


def test_a_sign_in_only_follows_paths_of_this_site(runtime: Runtime, session: Any) -> None:
    build_org(session, runtime)
    client = TestClient(create_app(runtime), follow_redirects=False)
    assert sign_in_form(client, EMAILS["member"], PASSWORD, "//evil.example/x") == (303, "/")
    assert sign_in_form(client, EMAILS["member"], PASSWORD, "https://evil.example/") == (303, "/")


def test_forms_without_the_session_csrf_token_are_refused(runtime: Runtime, session: Any) -> None:
    org = build_org(session, runtime)
    client = signed_in(runtime, org.users["member"])
    lead = org.leads[0]
    form = {"channel": "call", "outcome": "no_answer"}
    forged = client.post(f"/leads/{lead}/touch", data=form, headers={"X-CSRF-Token": "forged"})
    assert forged.status_code == 403
    assert "security token" in forged.text
    del client.headers["X-CSRF-Token"]
    assert client.post(f"/leads/{lead}/touch", data=form).status_code == 403
    page = client.get(f"/leads/{lead}").text
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    assert (
        client.post(f"/leads/{lead}/touch", data={**form, "csrf_token": token}).status_code == 200
    )
    # The same session's token through the JSON API (as the page's scripts would send it).
    api = client.post(f"/api/v1/leads/{lead}/touches", json=form, headers={"X-CSRF-Token": token})
    assert api.status_code == 201


def test_api_tokens_are_hashed_scoped_and_revocable(runtime: Runtime, session: Any) -> None:
    org = build_org(session, runtime)
    user = session.get_one(User, org.users["member"])
    reader, row = create_token(
        session, user, name="dashboard", scope="read", now=runtime.clock.now()
    )
    writer, _ = create_token(session, user, name="dialer", scope="write", now=runtime.clock.now())
    session.commit()
    assert row.token_hash == hashlib.sha256(reader.encode()).hexdigest()
    assert row.prefix == reader[:10]
    app = TestClient(create_app(runtime))
    lead = org.leads[0]
    touch = {"channel": "call", "outcome": "no_answer"}
    assert (
        app.get("/api/v1/leads", headers={"Authorization": f"Bearer {reader}"}).status_code == 200
    )
    refused = app.post(
        f"/api/v1/leads/{lead}/touches", json=touch, headers={"Authorization": f"Bearer {reader}"}
    )
    assert refused.status_code == 403
    assert "read scope" in refused.json()["detail"]
    assert (
        app.post(
            f"/api/v1/leads/{lead}/touches",
            json=touch,
            headers={"Authorization": f"Bearer {writer}"},
        ).status_code
        == 201
    )
    # A member's token still has only a member's rights.
    org_put = app.put("/api/v1/org", json={}, headers={"Authorization": f"Bearer {writer}"})
    assert org_put.status_code == 403
    assert "member role" in org_put.json()["detail"]
    assert app.get("/api/v1/leads", headers={"Authorization": "Bearer lo_wrong"}).status_code == 401
    member = signed_in(runtime, org.users["member"])
    member.post(f"/settings/tokens/{row.id}/revoke")
    assert (
        app.get("/api/v1/leads", headers={"Authorization": f"Bearer {reader}"}).status_code == 401
    )


def test_a_token_is_created_on_the_settings_page_and_shown_once(
    runtime: Runtime, session: Any
) -> None:
    org = build_org(session, runtime)
    member = signed_in(runtime, org.users["member"])
    page = member.post("/settings/tokens", data={"name": "dialer", "scope": "write"}).text
    token = page.split('<code class="token">')[1].split("<")[0]
    assert token.startswith("lo_")
    assert token not in member.get("/settings").text
    bad = member.post("/settings/tokens", data={"name": " ", "scope": "everything"})
    assert bad.status_code == 422
    assert "name" in bad.text
    assert "scope" in bad.text


@pytest.mark.parametrize(
    ("accept", "expected"),
    [("en-US,en;q=0.9", "Sign in to leadops"), ("ja,en;q=0.5", "leadops にログイン")],
)
def test_the_sign_in_page_speaks_the_browsers_language(
    runtime: Runtime, accept: str, expected: str
) -> None:
    page = TestClient(create_app(runtime)).get("/signin", headers={"Accept-Language": accept})
    assert expected in page.text


def test_a_users_language_is_their_preference_and_can_be_changed(
    runtime: Runtime, session: Any
) -> None:
    org = build_org(session, runtime)
    member = signed_in(runtime, org.users["member"])
    assert "My queue" in member.get("/queue", headers={"Accept-Language": "ja"}).text
    assert (
        member.post("/settings/locale", data={"locale": "ja", "next": "/queue"}).status_code == 303
    )
    page = member.get("/queue").text
    assert "マイキュー" in page
    assert 'lang="ja"' in page
    assert member.post("/settings/locale", data={"locale": "fr"}).status_code == 422
