"""Over the API: a lead without an e-mail, found again by its phone, with its address and the flags
of what was kept as given."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_a_phone_only_lead_over_the_api_is_found_again_by_its_phone(client: TestClient) -> None:
    created = client.put(
        "/api/v1/leads",
        json={
            "phone": "03-1234-5678 内線12",
            "full_name": "山田 太郎",
            "company": "株式会社サンプル",
            "address": "〒100-0005 東京都千代田区丸の内1-1",
        },
    )
    assert created.status_code == 201, created.text
    lead = created.json()["lead"]
    assert (lead["email"], lead["phone"], lead["prefecture"], lead["address"]) == (
        None,
        "03-1234-5678 内線12",
        "東京都",
        "〒100-0005 東京都千代田区丸の内1-1",
    )
    again = client.put(
        "/api/v1/leads", json={"phone": "+81 3 1234 5678 ext. 12", "email": "taro@sample.co.jp"}
    )
    assert again.status_code == 200, again.text
    assert again.json()["lead"]["id"] == lead["id"]
    assert again.json()["lead"]["email"] == "taro@sample.co.jp"


def test_a_region_outside_japan_is_taken_and_flagged(client: TestClient) -> None:
    response = client.put("/api/v1/leads", json={"email": "j@acme.com", "prefecture": "California"})
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["lead"]["prefecture"], body["lead"]["region"]) == (None, "California")
    assert [f["flag"] for f in body["flags"]] == ["region_outside_japan"]


def test_a_lead_nothing_identifies_is_refused_saying_what_would_do(client: TestClient) -> None:
    response = client.put("/api/v1/leads", json={"full_name": "山田 太郎", "title": "部長"})
    assert response.status_code == 422
    [detail] = response.json()["detail"]
    assert detail["path"] == "email"
    assert "a phone, an external_id, or a name with a company" in detail["message"]
    assert "a name but no company" in detail["message"]
