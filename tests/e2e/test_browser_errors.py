"""Refused actions and an ended session in a real browser: the message shows in the page's
#messages region without the page changing, and an action sent after the session ended is sent
once more, and only once, after signing in again."""

from __future__ import annotations

from sqlalchemy import func, select

from leadops.models import Touch, User
from leadops.runtime import Runtime
from tests.e2e.test_browser import (
    _page,
    _shot,
    _sign_in,
    browser,
    browser_runtime,
    playwright_api,
    pytestmark,
    server,
)
from tests.webapp import EMAILS, PASSWORD, build_org

__all__ = ["browser", "browser_runtime", "pytestmark", "server"]


def test_a_status_without_its_reason_is_refused_in_place_in_japanese(
    browser: object, server: str, browser_runtime: Runtime
) -> None:
    with browser_runtime.factory() as session:
        org = build_org(session, browser_runtime, leads=1)
        session.get_one(User, org.users["member"]).locale = "ja"
        session.commit()
    expect = playwright_api.expect
    rep = _page(browser, server, locale="ja-JP")
    rep.goto("/signin")  # type: ignore[attr-defined]
    _sign_in_here(rep)
    lead = org.leads[0]
    rep.goto(f"/leads/{lead}")  # type: ignore[attr-defined]
    form = rep.locator(f'form[hx-post="/leads/{lead}/status"]')  # type: ignore[attr-defined]
    form.locator('select[name="status"]').select_option("recycled")
    form.get_by_role("button", name="ステータス変更").click()
    messages = rep.locator("#messages")  # type: ignore[attr-defined]
    expect(messages).to_contain_text("実行できませんでした")
    expect(messages).to_contain_text("にするには理由が必要です")
    expect(rep.locator("#lead-page")).to_be_visible()  # type: ignore[attr-defined]
    rep.set_viewport_size({"width": 1366, "height": 900})  # type: ignore[attr-defined]
    _shot(rep, "errors-status-refused-1366")
    rep.set_viewport_size({"width": 390, "height": 844})  # type: ignore[attr-defined]
    _shot(rep, "errors-status-refused-390")
    # The browser logs the refused request itself; nothing else may be logged.
    logged = [e for e in rep.errors if "status of 422" not in e]  # type: ignore[attr-defined]
    assert logged == []


def test_a_touch_after_the_session_ended_is_sent_once_after_signing_in(
    browser: object, server: str, browser_runtime: Runtime
) -> None:
    with browser_runtime.factory() as session:
        org = build_org(session, browser_runtime, leads=1)
    expect = playwright_api.expect
    rep = _page(browser, server)
    _sign_in(rep, EMAILS["member"])
    rep.goto("/queue")  # type: ignore[attr-defined]
    lead = org.leads[0]
    row = rep.locator(f"#q-{lead}")  # type: ignore[attr-defined]
    expect(row.locator(".stage")).to_be_visible()
    rep.context.clear_cookies()  # type: ignore[attr-defined]
    row.get_by_role("button", name="Called: no answer").click()
    expect(rep).to_have_url(f"{server}/signin?next=/queue")
    _shot(rep, "errors-signin-after-expiry")
    _sign_in_here(rep)
    expect(rep).to_have_url(f"{server}/queue")
    expect(rep.locator(f"#q-{lead} .stage")).to_have_text("Touch 1")  # type: ignore[attr-defined]
    rep.reload()  # type: ignore[attr-defined]
    expect(rep.locator(f"#q-{lead} .stage")).to_have_text("Touch 1")  # type: ignore[attr-defined]
    kept = rep.evaluate("window.sessionStorage.getItem('leadops.pendingAction')")  # type: ignore[attr-defined]
    assert kept is None
    with browser_runtime.factory() as session:
        touches = session.scalar(select(func.count()).where(Touch.lead_id == lead))
    assert touches == 1
    _shot(rep, "errors-replayed-touch")
    assert rep.errors == []  # type: ignore[attr-defined]


def _sign_in_here(page: object) -> None:
    """Sign in on the sign-in page the browser is on (keeping its next=), in any language."""
    page.locator("#email").fill(EMAILS["member"])  # type: ignore[attr-defined]
    page.locator("#password").fill(PASSWORD)  # type: ignore[attr-defined]
    page.locator('form[action="/signin"] button[type="submit"]').click()  # type: ignore[attr-defined]
    page.wait_for_load_state()  # type: ignore[attr-defined]
