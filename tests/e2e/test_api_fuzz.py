"""The API fuzzed from its own OpenAPI document: schemathesis generates requests (valid ones, and
invalid ones at every boundary) for each operation and sends them in process with an admin's
token. Every answer must be documented: no server error, a status code the operation lists, a
body its schema allows.

The run is bounded and deterministic (a fixed seed, derandomized), so a failure shows again the
same way; each one it found has a focused test of its own in ``test_bad_input.py``.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from leadops.config import Settings
from leadops.ingest.webhook_sources import add_source
from leadops.runtime import Runtime
from leadops.web.app import create_app
from tests.conftest import api_token

#: Examples per operation in the fuzzing phase (the examples and coverage phases add their own).
EXAMPLES = 30
CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 14,
        "generation": {"max-examples": EXAMPLES, "deterministic": True, "database": "none"},
    }
)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

#: The people and the lead the document's examples name, so that examples reach real rows.
ORG = {
    "teams": [
        {"name": "インサイドセールス部", "kind": "inside_sales", "manager": "fujii@example.co.jp"}
    ],
    "users": [
        {
            "email": "fujii@example.co.jp",
            "name": "藤井",
            "role": "manager",
            "team": "インサイドセールス部",
        },
        {"email": "endo@example.co.jp", "name": "遠藤", "team": "インサイドセールス部"},
    ],
}
LEAD = {"email": "taro.yamada@example.co.jp", "company": "株式会社サンプル", "external_id": "crm-1"}
ACTIVITY = {
    "email": "taro.yamada@example.co.jp",
    "type": "form_submit",
    "occurred_at": "2026-11-20T10:15:00+09:00",
    "properties": {"form": "inquiry"},
    "external_id": "act-000123",
}


def _openapi() -> dict[str, Any]:
    """The document the app serves; building it touches no database."""
    runtime = Runtime.create(Settings(database_url="sqlite://"))
    try:
        return create_app(runtime).openapi()
    finally:
        runtime.close()


schema = schemathesis.openapi.from_dict(_openapi(), config=CONFIG)


@pytest.fixture
def admin_headers(runtime: Runtime) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_token(runtime, email='fuzz-admin@leadops.test')}"}


@pytest.fixture
def seeded_app(runtime: Runtime, admin_headers: dict[str, str]) -> FastAPI:
    """The app over a database with a team, two reps, a routed lead with an activity, an API
    batch with a rejected item (import job 1) and a webhook source."""
    app = create_app(runtime)
    with TestClient(app, headers=admin_headers) as client:
        for method, path, body in [
            ("PUT", "/api/v1/org", ORG),
            ("PUT", "/api/v1/leads", LEAD),
            ("POST", "/api/v1/activities", {"activities": [ACTIVITY]}),
            ("POST", "/api/v1/leads/batch", {"leads": [{"email": "hanako@example.co.jp"}, {}]}),
            ("POST", "/api/v1/route", None),
        ]:
            response = client.request(method, path, json=body)
            assert response.status_code < 300, (path, response.text)
    with runtime.factory() as session, session.begin():  # the webhook example's source
        add_source(session, "site-form", kind="form", now=runtime.clock.now())
    return app


# Each operation is a test of its own with a fresh, seeded database that its examples share (the
# database is the API's state, as for any client), hence function-scoped fixtures under @given.
@schema.parametrize()
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_generated_request_is_answered_as_documented(
    case: schemathesis.Case, seeded_app: FastAPI, admin_headers: dict[str, str]
) -> None:
    case.call_and_validate(app=seeded_app, headers=admin_headers, checks=CHECKS)
