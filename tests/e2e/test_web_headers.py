"""Every response of the web app carries the security headers: a Content-Security-Policy without
inline script, no framing, no MIME sniffing and a same-origin referrer — pages, API, static files,
redirects and errors alike."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from httpx import Response

from leadops.runtime import Runtime
from leadops.web.app import create_app
from tests.e2e.test_web_access import _routes, _url
from tests.webapp import build_org, signed_in


def directives(response: Response) -> dict[str, list[str]]:
    policy = response.headers["content-security-policy"]
    parts = [p.split() for p in policy.split(";") if p.strip()]
    return {name: values for name, *values in parts}


def assert_secured(response: Response, what: Any) -> None:
    assert response.headers.get("x-frame-options") == "DENY", what
    assert response.headers.get("x-content-type-options") == "nosniff", what
    assert response.headers.get("referrer-policy") == "same-origin", what
    policy = directives(response)
    assert policy["frame-ancestors"] == ["'none'"], what
    assert "'unsafe-inline'" not in policy["script-src"], what
    assert "'unsafe-eval'" not in policy["script-src"], what
    assert policy["object-src"] == ["'none'"], what
    assert policy["base-uri"] == ["'self'"], what


def test_every_route_answers_with_the_security_headers(runtime: Runtime, session: Any) -> None:
    org = build_org(session, runtime, leads=1)
    admin = signed_in(runtime, org.users["admin"])
    statuses = set()
    for method, path, _route in _routes(runtime):
        if (method, path) == ("POST", "/signout"):
            continue  # it ends the session the walk goes on with
        body: dict[str, Any] = {"json": {}} if path.startswith("/api/") else {"data": {}}
        answer = admin.request(method, _url(path), **body)
        assert_secured(answer, (method, path, answer.status_code))
        statuses.add(answer.status_code)
    assert {200, 404, 422} <= statuses


def test_the_page_policy_allows_only_this_sites_scripts_and_styles(runtime: Runtime) -> None:
    page = TestClient(create_app(runtime)).get("/signin")
    policy = directives(page)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["form-action"] == ["'self'"]


def test_errors_redirects_and_static_files_carry_the_headers_too(runtime: Runtime) -> None:
    app = create_app(runtime)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("a bug")

    anonymous = TestClient(app, follow_redirects=False, raise_server_exceptions=False)
    answers = {
        "redirect to sign in": anonymous.get("/queue"),
        "page not found": anonymous.get("/no/such/page"),
        "API not found": anonymous.get("/api/v1/no-such-thing"),
        "API not signed in": anonymous.get("/api/v1/leads"),
        "static file": anonymous.get("/static/leadops.js"),
        "vendored script": anonymous.get("/static/vendor/htmx-2.0.11.min.js"),
        "missing static file": anonymous.get("/static/nothing.js"),
        "health": anonymous.get("/healthz"),
        "OpenAPI document": anonymous.get("/api/openapi.json"),
        "too large": anonymous.post(
            "/api/v1/activities", headers={"content-length": str(10**12)}, content=b"{}"
        ),
        "server error": anonymous.get("/boom"),
    }
    assert answers["redirect to sign in"].status_code == 303
    assert answers["page not found"].status_code == 404
    assert answers["too large"].status_code == 413
    assert answers["server error"].status_code == 500
    for what, answer in answers.items():
        assert_secured(answer, what)


def test_the_api_documentation_runs_no_inline_script(runtime: Runtime) -> None:
    docs = TestClient(create_app(runtime)).get("/api/docs")
    assert docs.status_code == 200
    assert_secured(docs, "docs")
    assert "<script>" not in docs.text
    assert '<script src="/static/api-docs.js"></script>' in docs.text
    assert 'data-openapi="/api/openapi.json"' in docs.text
    assert directives(docs)["script-src"] == ["'self'"]  # Swagger UI is served from the package
    assert '<script src="/static/vendor/swagger-ui-bundle-5.35.0.js"></script>' in docs.text
    bundle = TestClient(create_app(runtime)).get("/static/vendor/swagger-ui-bundle-5.35.0.js")
    assert bundle.status_code == 200
