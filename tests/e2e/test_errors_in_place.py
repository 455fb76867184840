"""Refused htmx actions over HTTP: the message comes back as a small fragment for the page's
#messages region, in the user's language; an ended session sends the browser to sign in and back
to the page it was on; numbers out of range on the lead list are refused by name, not a 500."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from leadops.models import User
from leadops.runtime import Runtime
from leadops.web.app import create_app
from leadops.web.pages import leads as leads_pages
from tests.webapp import EMAILS, PASSWORD, Org, build_org, sign_in_form, signed_in


def _japanese_rep(runtime: Runtime, session: Any, leads: int = 1) -> tuple[Org, TestClient]:
    org = build_org(session, runtime, leads=leads)
    session.get_one(User, org.users["member"]).locale = "ja"
    session.commit()
    return org, signed_in(runtime, org.users["member"])


def _hx(page: str) -> dict[str, str]:
    return {"HX-Request": "true", "HX-Current-URL": f"http://testserver{page}"}


def test_a_status_without_its_reason_answers_a_japanese_fragment_for_the_messages(
    runtime: Runtime, session: Any
) -> None:
    org, rep = _japanese_rep(runtime, session)
    lead = org.leads[0]
    refused = rep.post(
        f"/leads/{lead}/status",
        data={"status": "recycled", "reason": ""},
        headers=_hx(f"/leads/{lead}"),
    )
    assert refused.status_code == 422
    assert refused.headers["HX-Retarget"] == "#messages"
    assert refused.headers["HX-Reswap"] == "innerHTML"
    # The lead page's forms select #lead-page from their answer: this answer says what to take.
    assert refused.headers["HX-Reselect"] == "#refused"
    assert refused.text.startswith('<div id="refused">')
    assert "<html" not in refused.text
    assert "実行できませんでした:" in refused.text
    assert "リードを「リサイクル」にするには理由が必要です" in refused.text
    assert "needs a reason" not in refused.text


def test_a_touch_on_a_recycled_lead_answers_a_409_fragment_in_japanese(
    runtime: Runtime, session: Any
) -> None:
    org, rep = _japanese_rep(runtime, session)
    lead = org.leads[0]
    moved = rep.post(f"/leads/{lead}/status", data={"status": "recycled", "reason": "予算なし"})
    assert moved.status_code == 200
    refused = rep.post(
        f"/leads/{lead}/touch",
        data={"channel": "call", "outcome": "no_answer", "view": "queue"},
        headers=_hx("/queue"),
    )
    assert refused.status_code == 409
    assert refused.headers["HX-Retarget"] == "#messages"
    assert refused.headers["HX-Reselect"] == "#refused"
    assert "このリードは「リサイクル」です" in refused.text
    assert "before touching it" not in refused.text


def test_an_ended_session_sends_an_htmx_action_to_sign_in_and_back_to_its_page(
    runtime: Runtime, session: Any
) -> None:
    org = build_org(session, runtime, leads=1)
    lead = org.leads[0]
    stranger = TestClient(create_app(runtime), follow_redirects=False)
    answer = stranger.post(
        f"/leads/{lead}/touch",
        data={"channel": "call", "outcome": "no_answer", "view": "queue"},
        headers=_hx("/queue?sort=due"),
    )
    assert answer.status_code == 204
    redirect = answer.headers["HX-Redirect"]
    assert urlsplit(redirect).path == "/signin"
    # The page the action was sent from, not the action's own POST-only URL.
    assert parse_qs(urlsplit(redirect).query)["next"] == ["/queue?sort=due"]
    status, location = sign_in_form(stranger, EMAILS["member"], PASSWORD, "/queue?sort=due")
    assert (status, location) == (303, "/queue?sort=due")
    page = stranger.get(location)
    assert page.status_code == 200
    assert f'id="q-{lead}"' in page.text


def test_an_ended_session_never_sends_back_to_another_site(runtime: Runtime) -> None:
    stranger = TestClient(create_app(runtime), follow_redirects=False)
    for current in ("https://evil.test//evil.test/x", "javascript:alert(1)", ""):
        answer = stranger.post(
            "/leads/1/touch", headers={"HX-Request": "true", "HX-Current-URL": current}
        )
        assert answer.headers["HX-Redirect"] in ("/signin?next=/", "/signin?next=%2F")


def test_numbers_out_of_range_on_the_lead_list_are_refused_by_name_not_a_500(
    runtime: Runtime, session: Any
) -> None:
    _org, rep = _japanese_rep(runtime, session)
    for name in ("max_score", "min_score"):
        page = rep.get(f"/leads?{name}=99999999999999999999")
        assert page.status_code == 422, name
        assert name in page.text
        assert "は範囲外です" in page.text


def test_a_page_beyond_the_last_shows_the_last_page(
    runtime: Runtime, session: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(leads_pages, "PAGE_SIZE", 2)
    _org, rep = _japanese_rep(runtime, session, leads=3)
    page = rep.get("/leads?page=9999")
    assert page.status_code == 200
    assert "3 件 · 2 / 2 ページ" in page.text
    assert page.text.count('name="lead"') == 1  # the last page's one lead
