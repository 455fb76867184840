"""In a real browser, in Japanese: a reassignment from the all-teams board (nothing chosen at
first, back to the same view, the lead gone from the SLA list) and the unread badge emptied by
"mark all read" on the inbox, at a desktop's and a phone's width."""

from __future__ import annotations

from sqlalchemy import update

from leadops.models import User
from leadops.runtime import Runtime
from tests.e2e import test_browser as shared
from tests.e2e.test_board_notifications import _notify
from tests.e2e.test_browser import _page, _shot, _sign_in, playwright_api
from tests.webapp import EMAILS, build_org

pytestmark = shared.pytestmark
browser_runtime = shared.browser_runtime
server = shared.server
browser = shared.browser


def test_a_manager_reassigns_from_the_board_and_a_rep_clears_the_inbox(
    browser: object, server: str, browser_runtime: Runtime
) -> None:
    expect = playwright_api.expect
    with browser_runtime.factory() as session:
        org = build_org(session, browser_runtime, leads=2)
        session.execute(update(User).values(locale="ja"))
        session.commit()
        _notify(session, browser_runtime, org, 2)
    boss = _page(browser, server)
    _sign_in(boss, EMAILS["manager"])
    boss.goto("/board?team=0")  # type: ignore[attr-defined]
    lead = org.leads[0]
    row = boss.locator(f"#breaches tr[data-lead='{lead}']")  # type: ignore[attr-defined]
    choice = row.locator(f"#to-{lead}")
    expect(choice).to_have_value("")
    expect(choice.locator("option").first).to_have_text("選択してください")
    _shot(boss, "board-board-ja-1366")
    choice.select_option(value=str(org.users["member2"]))
    row.locator(f"#why-{lead}").fill("担当者の負荷が高いため")
    row.locator("button[type=submit]").click()
    boss.wait_for_url("**/board?team=0&done=1")  # type: ignore[attr-defined]
    expect(boss.locator("#messages")).to_contain_text("担当")  # type: ignore[attr-defined]
    expect(boss.locator(f"#breaches tr[data-lead='{lead}']")).to_have_count(0)  # type: ignore[attr-defined]
    expect(boss.locator("select[name=team]")).to_have_value("0")  # type: ignore[attr-defined]
    _shot(boss, "board-board-after-ja-1366")
    boss.set_viewport_size({"width": 390, "height": 844})  # type: ignore[attr-defined]
    _shot(boss, "board-board-after-ja-390")
    assert boss.errors == []  # type: ignore[attr-defined]

    rep = _page(browser, server)
    _sign_in(rep, EMAILS["member"])
    rep.goto("/notifications")  # type: ignore[attr-defined]
    badge = rep.locator("#unread-count")  # type: ignore[attr-defined]
    expect(badge).to_be_visible()
    expect(rep.locator("ul.inbox .note-due time").first).to_have_text("2026-12-01 03:03")  # type: ignore[attr-defined]
    _shot(rep, "board-inbox-ja-1366")
    rep.set_viewport_size({"width": 390, "height": 844})  # type: ignore[attr-defined]
    _shot(rep, "board-inbox-ja-390")
    rep.get_by_role("button", name="すべて既読にする").click()  # type: ignore[attr-defined]
    rep.wait_for_url("**/notifications?done=1")  # type: ignore[attr-defined]
    expect(badge).to_have_count(0)
    expect(rep.locator("#messages")).to_contain_text("すべて既読にしました。")  # type: ignore[attr-defined]
    _shot(rep, "board-inbox-read-ja-390")
    assert rep.errors == []  # type: ignore[attr-defined]
