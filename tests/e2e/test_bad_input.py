"""Every bad input gets a precise message, and the good rows around it still go in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select

from leadops.cadence.service import CHANNELS, OUTCOMES
from leadops.ingest.importer import run_import
from leadops.ingest.mappings import resolve_mapping
from leadops.models import Activity, ImportReject, Lead
from leadops.runtime import Runtime


def import_file(runtime: Runtime, kind: str, path: Path):  # type: ignore[no-untyped-def]
    return run_import(
        kind, path, resolve_mapping(None, kind), runtime.factory, runtime.settings, runtime.clock
    )


def event(i: int, **over: object) -> dict[str, object]:
    return {
        "email": f"p{i}@x.co.jp",
        "type": "page_view",
        "occurred_at": "2026-11-20T10:00:00+09:00",
        "properties": {"url": "/pricing"},
        "external_id": f"e-{i}",
        **over,
    }


def test_each_kind_of_bad_line_is_named_and_the_rest_is_taken(
    runtime: Runtime, tmp_path: Path
) -> None:
    lines = [
        json.dumps(event(1)),
        '{"email": "p2@x.co.jp", "type": "page_view"',  # malformed JSON
        json.dumps(event(3, type="carrier_pigeon")),  # unknown type
        json.dumps(event(4, email=None)),  # missing email
        json.dumps(event(5, occurred_at="2031-01-01T00:00:00+09:00")),  # future beyond tolerance
        json.dumps(event(6, occurred_at="31/31/2026")),  # not a date
        json.dumps(event(7, properties="url=/pricing")),  # properties not an object
        json.dumps(event(8)),
    ]
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    summary = import_file(runtime, "events", path)
    assert (summary.taken, summary.rejected) == (2, 6)
    by_row = {r.row: r for r in summary.rejects}
    assert "not valid JSON" in by_row[2].error
    assert by_row[3].field == "type"
    assert "carrier_pigeon" in by_row[3].error
    assert by_row[4].field == "email"
    assert "missing" in by_row[4].error
    assert by_row[5].field == "occurred_at"
    assert "in the future" in by_row[5].error
    assert by_row[6].field == "occurred_at"
    assert "31/31/2026" in by_row[6].error
    assert by_row[7].field == "properties"
    with runtime.factory() as session:
        assert session.scalar(select(func.count()).select_from(Activity)) == 2
        raw = session.scalars(select(ImportReject.raw).where(ImportReject.row_number == 3)).one()
        assert raw["type"] == "carrier_pigeon"  # the rejected row is kept as sent


def test_a_file_in_the_wrong_encoding_for_some_rows(runtime: Runtime, tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    path.write_bytes(
        b"email,company\n"
        + "a@x.co.jp,株式会社エー\n".encode()
        + b"b@x.co.jp,"
        + "株式会社ビー".encode("cp932")
        + b"\n"
        + "c@x.co.jp,株式会社シー\n".encode()
    )
    summary = import_file(runtime, "leads", path)
    assert (summary.encoding, summary.taken, summary.rejected) == ("utf-8", 2, 1)
    assert summary.rejects[0].row == 3
    assert summary.rejects[0].field == "company"
    assert "not valid utf-8" in summary.rejects[0].error


def test_a_missing_email_in_a_lead_file(runtime: Runtime, tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    path.write_text("email,company\n,株式会社エー\nb@x.co.jp,株式会社ビー\n", encoding="utf-8")
    summary = import_file(runtime, "leads", path)
    assert (summary.taken, summary.rejected) == (1, 1)
    assert summary.rejects[0].error.startswith(
        "email: missing: a lead needs an e-mail, a phone, an external_id, or a name with a company"
    )
    assert summary.rejects[0].error.endswith("it has a company but no one's name")


def test_a_50_mb_file_streams_in_with_its_one_bad_line_rejected(
    runtime: Runtime, tmp_path: Path
) -> None:
    path = tmp_path / "big.jsonl"
    padding = "x" * 10_000
    with path.open("w", encoding="utf-8") as fh:
        for i in range(5_000):
            item = (
                event(i, properties={"url": "/blog/", "note": padding})
                if i != 2_500
                else event(i, type="nope")
            )
            fh.write(json.dumps(item) + "\n")
    assert path.stat().st_size > 50_000_000
    summary = import_file(runtime, "events", path)
    assert (summary.total, summary.taken, summary.rejected) == (5_000, 4_999, 1)
    assert summary.rejects[0].row == 2_501
    with runtime.factory() as session:
        # The rejected line's person never became a lead; everyone else did.
        assert session.scalar(select(func.count()).select_from(Lead)) == 4_999
        assert session.scalar(select(func.count()).select_from(Activity)) == 4_999


# --- at the edge of the API: what the fuzzer found, one test each ------------------------------

BEYOND_64_BITS = str(2**64)
LEAD = {"email": "taro.yamada@example.co.jp", "company": "株式会社サンプル"}


def send(client: TestClient, method: str, path: str, body: object) -> Response:
    """Send JSON as a client may write it: escapes such as \\ud800 (a lone surrogate) included."""
    return client.request(
        method, path, content=json.dumps(body), headers={"content-type": "application/json"}
    )


def paths_of(response: Response) -> list[str]:
    return [d["path"] for d in response.json()["detail"]]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/v1/leads/{big}", None),
        ("GET", "/api/v1/leads/{big}/routing", None),
        ("POST", "/api/v1/leads/{big}/status", {"status": "lead"}),
        ("POST", "/api/v1/leads/{big}/touches", {"channel": "call", "outcome": "no_answer"}),
        ("POST", "/api/v1/leads/{big}/appointments", {}),
        ("POST", "/api/v1/leads/{big}/reassign", {"to": "1", "reason": "顧客の希望"}),
        ("POST", "/api/v1/leads/1/reassign", {"to": "{big}", "reason": "顧客の希望"}),
        ("POST", "/api/v1/leads/1/status", {"status": "lead", "by": "{big}"}),
        ("GET", "/api/v1/notifications?user={big}", None),
    ],
)
def test_a_reference_beyond_64_bits_is_no_id_and_not_found(
    client: TestClient, method: str, path: str, body: dict[str, str] | None
) -> None:
    client.put("/api/v1/leads", json=LEAD)
    filled = json.loads(json.dumps(body).replace("{big}", BEYOND_64_BITS))
    response = client.request(method, path.replace("{big}", BEYOND_64_BITS), json=filled)
    assert response.status_code == 404
    assert BEYOND_64_BITS in response.json()["detail"]


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v1/imports/{big}", "job_id"),
        ("/api/v1/imports/{big}/rejects", "job_id"),
        ("/api/v1/leads?offset={big}", "offset"),
        ("/api/v1/reports/score-jumps?threshold={big}", "threshold"),
    ],
)
def test_an_id_or_offset_beyond_64_bits_is_refused_naming_it(
    client: TestClient, path: str, field: str
) -> None:
    response = client.get(path.replace("{big}", BEYOND_64_BITS))
    assert response.status_code == 422
    assert paths_of(response) == [field]


def test_a_notification_id_beyond_64_bits_is_refused_naming_it(client: TestClient) -> None:
    response = client.post(f"/api/v1/notifications/{BEYOND_64_BITS}/read")
    assert response.status_code == 422
    assert paths_of(response) == ["notification_id"]


@pytest.mark.parametrize(
    ("param", "day"), [("from", "0001-01-01"), ("to", "9999-12-31"), ("as_of", "9999-12-31")]
)
def test_a_report_date_outside_1900_2100_is_refused_naming_it(
    client: TestClient, param: str, day: str
) -> None:
    response = client.get("/api/v1/reports/kpis", params={param: day})
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {
            "path": param,
            "message": f"'{day}' is out of range: dates must fall in the years 1900-2100",
        }
    ]


def test_a_lone_surrogate_in_a_name_is_refused_naming_the_field(
    client: TestClient, runtime: Runtime
) -> None:
    one = send(client, "PUT", "/api/v1/leads", {**LEAD, "last_name": "山\ud800"})
    assert one.status_code == 422
    assert paths_of(one) == ["last_name"]
    assert "lone surrogate (U+D800)" in one.json()["detail"][0]["message"]
    batch = send(
        client,
        "POST",
        "/api/v1/leads/batch",
        {"leads": [{"email": "a@x.co.jp", "first_name": "\udfff"}, {"email": "b@x.co.jp"}]},
    )
    assert batch.status_code == 207
    assert batch.json()["rejected"][0]["errors"][0]["path"] == "leads[0].first_name"
    with runtime.factory() as session:
        assert session.scalar(select(func.count()).select_from(Lead)) == 1
        kept = session.scalars(select(ImportReject.raw)).one()
        assert kept == {"email": "a@x.co.jp", "first_name": "\ufffd"}  # kept, made storable


def test_a_field_named_with_a_lone_surrogate_is_rejected_and_kept(
    client: TestClient, runtime: Runtime
) -> None:
    response = send(
        client, "POST", "/api/v1/leads/batch", {"leads": [{"email": "a@x.co.jp", "\ud800": 1}]}
    )
    assert response.status_code == 422
    assert response.json()["rejected"][0]["errors"][0]["path"] == "leads[0].\ufffd"
    with runtime.factory() as session:
        assert session.scalars(select(ImportReject.field)).one() == "leads[0].\ufffd"


def test_a_nul_in_any_text_is_refused_naming_the_field(client: TestClient) -> None:
    client.put("/api/v1/leads", json=LEAD)
    cases = [
        ("PUT", "/api/v1/leads", {**LEAD, "company": "株式会社\x00"}, "company"),
        ("PUT", "/api/v1/leads", {**LEAD, "custom": {"メモ": "a\x00"}}, "custom"),
        (
            "POST",
            "/api/v1/leads/1/touches",
            {"channel": "call", "outcome": "no_answer", "note": "\x00"},
            "note",
        ),
        ("POST", "/api/v1/leads/1/appointments", {"name": "商談\x00"}, "name"),
    ]
    for method, path, body, field in cases:
        response = client.request(method, path, json=body)
        assert response.status_code == 422, (path, response.text)
        assert paths_of(response) == [field]
        assert "NUL character (U+0000)" in response.json()["detail"][0]["message"]


def test_a_text_longer_than_its_column_is_refused_naming_the_field(client: TestClient) -> None:
    client.put("/api/v1/leads", json=LEAD)
    long_name = client.put("/api/v1/leads", json={**LEAD, "first_name": "名" * 201})
    assert long_name.status_code == 422
    assert long_name.json()["detail"] == [
        {"path": "first_name", "message": "is 201 characters long; the most is 200"}
    ]
    full = client.put("/api/v1/leads", json={**LEAD, "full_name": "山" * 250})
    assert full.status_code == 422
    assert paths_of(full) == ["full_name"]
    reason = client.post("/api/v1/leads/1/status", json={"status": "recycled", "reason": "x" * 201})
    assert reason.status_code == 422
    assert paths_of(reason) == ["reason"]
    field = client.post(
        "/api/v1/leads/batch", json={"leads": [{"email": "a@x.co.jp", "x" * 300: 1}]}
    )
    assert field.status_code == 422  # the unknown field's long name is kept, cut to its column


def test_an_activity_channel_must_be_text(client: TestClient) -> None:
    activity = {"email": "a@x.co.jp", "type": "page_view", "occurred_at": "2026-11-20"}
    response = client.post(
        "/api/v1/activities", json={"activities": [{**activity, "channel": [None, None]}]}
    )
    assert response.status_code == 422
    assert response.json()["rejected"][0]["errors"] == [
        {"path": "activities[0].channel", "message": "expected a channel name, got a list"}
    ]
    taken = client.post("/api/v1/activities", json={"activities": [{**activity, "channel": "ads"}]})
    assert taken.status_code == 200


def test_a_touch_channel_is_one_of_the_cadence_channels(client: TestClient) -> None:
    touch = client.get("/api/openapi.json").json()["components"]["schemas"]["TouchIn"]
    assert touch["properties"]["channel"]["enum"] == list(CHANNELS)
    assert touch["properties"]["outcome"]["enum"] == list(OUTCOMES)
    client.put("/api/v1/leads", json=LEAD)
    response = client.post(
        "/api/v1/leads/1/touches", json={"channel": [None, None], "outcome": "no_answer"}
    )
    assert response.status_code == 422
    assert paths_of(response) == ["channel"]


@pytest.mark.parametrize("employees", ["9" * 30, int("9" * 30), "10,000,001名"])
def test_employees_beyond_any_company_are_refused_naming_the_field(
    client: TestClient, employees: object
) -> None:
    response = client.put("/api/v1/leads", json={**LEAD, "employees": employees})
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {
            "path": "employees",
            "message": f"{employees} is out of range: the most is 10,000,000",
        }
    ]


def test_an_empty_crm_source_is_no_source_and_the_lead_stays_updatable(
    client: TestClient,
) -> None:
    lead = {"external_id": "sf-001", "crm_source": "", "company": "株式会社サンプル"}
    first = client.put("/api/v1/leads", json=lead)
    assert first.status_code == 201
    assert first.json()["lead"]["crm_source"] == "import"
    again = client.put("/api/v1/leads", json=lead)
    assert (again.status_code, again.json()["changed"]) == (200, False)
    updated = client.put("/api/v1/leads", json={**lead, "title": "部長"})
    assert updated.status_code == 200
    assert updated.json()["lead"]["title"] == "部長"
    assert updated.json()["lead"]["id"] == first.json()["lead"]["id"]


def test_an_empty_touch_external_id_is_no_id(client: TestClient) -> None:
    client.put("/api/v1/leads", json=LEAD)
    touch = {"channel": "call", "outcome": "no_answer", "external_id": ""}
    first = client.post("/api/v1/leads/1/touches", json=touch)
    second = client.post("/api/v1/leads/1/touches", json=touch)
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["touch_id"] != second.json()["touch_id"]


@pytest.mark.parametrize(
    ("document", "path"),
    [
        ({"users": [{"email": "a@b", "name": "x"}]}, "users.0.email"),
        ({"teams": [{"name": "t", "kind": "sales", "manager": "nobody"}]}, "teams.0.manager"),
        (
            {
                "users": [
                    {
                        "email": "a@x.co.jp",
                        "name": "x",
                        "out_of_office": [{"from": "9999-12-31", "to": "9999-12-31"}],
                    }
                ]
            },
            "users.0.out_of_office.0.from",
        ),
        ({"users": [{"email": "a@x.co.jp", "name": "x", "capacity": 2**40}]}, "users.0.capacity"),
        ({"teams": [{"name": "t" * 201, "kind": "sales"}]}, "teams.0.name"),
    ],
)
def test_a_bad_organisation_document_is_refused_naming_the_field(
    client: TestClient, document: dict[str, object], path: str
) -> None:
    response = client.put("/api/v1/org", json=document)
    assert response.status_code == 422
    assert path in paths_of(response)


def test_pages_name_a_number_beyond_64_bits_a_nul_and_a_long_view_name(client: TestClient) -> None:
    for path, field in [
        (f"/leads/{BEYOND_64_BITS}", "lead_id"),
        (f"/leads?min_score={BEYOND_64_BITS}", "min_score"),
        ("/leads?q=%00", "q"),
        (f"/board?team={BEYOND_64_BITS}", "team"),
    ]:
        response = client.get(path)
        assert response.status_code == 422, path
        assert f"<code>{field}</code>" in response.text, path
    view = client.post("/leads/views", data={"name": "v" * 201, "query": ""})
    assert view.status_code == 422
    assert "<code>name</code>" in view.text
