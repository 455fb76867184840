"""The REST API end to end: upserts, batches, errors as JSON with the path of each bad field."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from leadops.models import ImportReject
from leadops.runtime import Runtime


def test_health_and_openapi(client: TestClient) -> None:
    health = client.get("/healthz").json()
    assert health["status"] == "ok"
    spec = client.get("/api/openapi.json").json()
    assert {"/api/v1/leads", "/api/v1/activities", "/api/v1/leads/batch"} <= set(spec["paths"])
    item = spec["components"]["schemas"]["ActivityBatchIn"]["properties"]["activities"]["items"]
    assert {"email", "type", "occurred_at", "external_id"} <= set(item["properties"])
    assert client.get("/api/docs").status_code == 200


def test_every_route_documents_its_answers_and_the_error_body(client: TestClient) -> None:
    spec = client.get("/api/openapi.json").json()
    error = {"$ref": "#/components/schemas/ErrorOut"}
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            answers = operation["responses"]
            # The webhook answers 202 (taken); every other route 200.
            success = answers["202"] if path == "/api/v1/webhooks/{source}" else answers["200"]
            assert "$ref" in str(success) or path == "/healthz", where
            if path.startswith("/api/"):
                # A webhook is signed by its sender: 401 without a good signature, never 403.
                assert {"401"} <= set(answers), where
                assert "403" in answers or path == "/api/v1/webhooks/{source}", where
            for status in set(answers) & {"400", "401", "403", "404", "409", "413"}:
                assert answers[status]["content"]["application/json"]["schema"] == error, where
            if "422" in answers:  # a batch's own answer, or the error body
                assert "#/components/schemas/ErrorOut" in str(answers["422"]), where
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    batch = spec["paths"]["/api/v1/activities"]["post"]["responses"]
    assert {"200", "207", "413", "422"} <= set(batch)
    report = spec["paths"]["/api/v1/reports/{name}"]["get"]["responses"]["200"]["content"]
    assert set(report) == {
        "application/json",
        "text/csv",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
    touch = spec["paths"]["/api/v1/leads/{ref}/touches"]["post"]["responses"]
    assert {"200", "201", "409"} <= set(touch)


def test_upsert_a_lead_by_normalized_email(client: TestClient) -> None:
    created = client.put(
        "/api/v1/leads",
        json={
            "email": "Taro@Example.co.jp",
            "company": "株式会社サンプル",
            "prefecture": "Osaka",
            "custom": {"利用中のMAシステム": "Marketo"},
        },
    )
    assert created.status_code == 201
    lead = created.json()["lead"]
    assert (lead["email"], lead["prefecture"], lead["region"]) == (
        "taro@example.co.jp",
        "大阪府",
        "近畿",
    )
    again = client.put("/api/v1/leads", json={"email": "ＴＡＲＯ@example.co.jp", "title": "部長"})
    assert again.status_code == 200
    assert again.json()["lead"]["id"] == lead["id"]
    detail = client.get("/api/v1/leads/taro@example.co.jp").json()
    assert detail["lead"]["title"] == "部長"
    assert detail["lead"]["custom"] == {"利用中のMAシステム": "Marketo"}


def test_lead_errors_name_each_bad_field(client: TestClient) -> None:
    response = client.put(
        "/api/v1/leads", json={"email": "not-an-email", "prefecture": "Gotham", "employees": "many"}
    )
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "validation_failed"
    # Gotham is no prefecture: kept as the region and flagged, not an error.
    assert {d["path"] for d in body["detail"]} == {"email", "employees"}
    unknown = client.put("/api/v1/leads", json={"emial": "a@x.co.jp"})
    assert unknown.status_code == 422
    assert unknown.json()["detail"][0]["path"] == "emial"


def test_a_lead_batch_takes_the_good_and_returns_the_bad(
    client: TestClient, runtime: Runtime
) -> None:
    response = client.post(
        "/api/v1/leads/batch",
        json={
            "leads": [
                {"email": "a@x.co.jp"},
                {"email": ""},
                {"email": "b@x.co.jp", "created_at": "2099-01-01"},
                {"email": "c@x.co.jp"},
            ]
        },
    )
    assert response.status_code == 207
    body = response.json()
    assert body["created"] == 2
    assert [(r["index"], r["errors"][0]["path"]) for r in body["rejected"]] == [
        (1, "leads[1].email"),
        (2, "leads[2].created_at"),
    ]
    assert "in the future" in body["rejected"][1]["errors"][0]["message"]
    with runtime.factory() as session:
        kept = session.scalars(select(ImportReject).order_by(ImportReject.row_number)).all()
        assert [(r.row_number, r.raw) for r in kept] == [
            (1, {"email": ""}),
            (2, {"email": "b@x.co.jp", "created_at": "2099-01-01"}),
        ]


def test_activity_batches_are_idempotent_and_partial(client: TestClient) -> None:
    batch = {
        "activities": [
            {
                "email": "a@x.co.jp",
                "type": "form_submit",
                "occurred_at": "2026-11-20T10:00:00+09:00",
                "properties": {"form": "inquiry"},
                "source": "webform",
                "external_id": "w-1",
            },
            {
                "email": "a@x.co.jp",
                "type": "fax_received",
                "occurred_at": "2026-11-20T10:00:00+09:00",
            },
            {"type": "page_view", "occurred_at": "2026-11-20T10:00:00+09:00"},
            {"email": "a@x.co.jp", "type": "page_view", "occurred_at": "next tuesday"},
        ]
    }
    first = client.post("/api/v1/activities", json=batch)
    assert first.status_code == 207
    body = first.json()
    assert (body["accepted"], body["new_leads"]) == (1, 1)
    paths = [(r["index"], r["errors"][0]["path"]) for r in body["rejected"]]
    assert paths == [
        (1, "activities[1].type"),
        (2, "activities[2].email"),
        (3, "activities[3].occurred_at"),
    ]
    again = client.post("/api/v1/activities", json={"activities": batch["activities"][:1]})
    assert again.status_code == 200
    assert (again.json()["accepted"], again.json()["duplicates"]) == (0, 1)
    none = client.post("/api/v1/activities", json={"activities": batch["activities"][1:2]})
    assert none.status_code == 422


def test_malformed_json_says_where(client: TestClient) -> None:
    response = client.post(
        "/api/v1/activities",
        content=b'{"activities": [\n  {"email": "a@x.co.jp",, }\n]}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid_json"
    assert (body["detail"]["line"], body["detail"]["column"]) == (2, 25)


def test_a_batch_over_the_limit_is_refused_with_the_limit(
    client: TestClient, runtime: Runtime
) -> None:
    runtime.settings.max_batch_size = 3
    items = [{"email": "a@x.co.jp", "type": "page_view", "occurred_at": "2026-11-01"}] * 4
    response = client.post("/api/v1/activities", json={"activities": items})
    assert response.status_code == 413
    assert response.json() == {
        "error": "too_large",
        "detail": "4 activities in one batch; the limit is 3",
    }


def test_a_50_mb_body_is_refused_before_it_is_read(client: TestClient) -> None:
    response = client.post(
        "/api/v1/activities",
        content=b" " * 50_000_000,
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["detail"].startswith("request body is 50.0 MB; the limit is 25 MB")


def test_the_lead_list_page_shows_seed_002s_columns(client: TestClient) -> None:
    client.put(
        "/api/v1/leads",
        json={
            "email": "a@x.co.jp",
            "company": "株式会社エックス",
            "last_name": "山田",
            "custom": {"利用中のMAシステム": "SATORI"},
        },
    )
    client.post(
        "/api/v1/activities",
        json={
            "activities": [
                {
                    "email": "a@x.co.jp",
                    "type": "content_download",
                    "occurred_at": "2026-11-20T10:00:00+09:00",
                }
            ]
        },
    )
    page = client.get("/leads")
    assert page.status_code == 200
    for text in ("Touch stage", "株式会社エックス", "山田", "SATORI", "Download ×1", "Untouched"):
        assert text in page.text
    client.headers["Accept-Language"] = "ja"
    page = client.get("/leads?lang=ja")
    for text in ("タッチステージ", "利用中のMAシステム", "資料ダウンロード ×1", "未接触"):
        assert text in page.text
    assert client.get("/leads?stage=connected").text.count("株式会社エックス") == 0


def test_a_page_beyond_the_last_shows_the_last_and_a_huge_score_is_refused(
    client: TestClient,
) -> None:
    client.put("/api/v1/leads", json={"email": "p@x.co.jp", "company": "株式会社ページ"})
    page = client.get("/leads?page=9999")
    assert page.status_code == 200
    assert "株式会社ページ" in page.text
    assert "page 1 of 1" in page.text
    assert "page 9999" not in page.text
    assert client.get("/leads?max_score=99999999999999999999").status_code == 422
