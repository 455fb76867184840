"""A rep's day in a real browser: the header's search box from the keyboard, a note on the
timeline, and the queue worked with j/k/1 and ? (see test_browser.py for the set-up)."""

from __future__ import annotations

from leadops.runtime import Runtime
from tests.e2e import test_browser as base
from tests.webapp import EMAILS, build_org

# The browser, its server and its database: test_browser.py's fixtures and skip marks.
pytestmark = base.pytestmark
browser = base.browser
browser_runtime = base.browser_runtime
server = base.server
playwright_api = base.playwright_api
_page, _shot, _sign_in = base._page, base._shot, base._sign_in


def test_slash_goes_to_the_header_search_and_finds_a_lead(
    browser: object, server: str, browser_runtime: Runtime
) -> None:
    with browser_runtime.factory() as session:
        org = build_org(session, browser_runtime, leads=3)
    expect = playwright_api.expect
    rep = _page(browser, server)
    _sign_in(rep, EMAILS["member"])
    rep.goto(f"/leads/{org.leads[0]}")
    rep.locator("#note-body").click()
    rep.keyboard.type("a/b")  # typing in a field: / is a character there
    expect(rep.locator("#note-body")).to_have_value("a/b")
    rep.locator("body").click(position={"x": 5, "y": 300})
    rep.keyboard.press("/")
    expect(rep.locator("#header-search")).to_be_focused()
    rep.keyboard.type("（株）顧客1")
    rep.keyboard.press("Enter")
    expect(rep.locator("tr.search-hit")).to_have_count(1)
    expect(rep.locator("tr.search-hit a").first).to_have_attribute("href", f"/leads/{org.leads[1]}")
    _shot(rep, "repday-search")
    assert rep.errors == []


def test_a_note_appears_on_the_timeline(
    browser: object, server: str, browser_runtime: Runtime
) -> None:
    with browser_runtime.factory() as session:
        org = build_org(session, browser_runtime, leads=1)
    expect = playwright_api.expect
    rep = _page(browser, server)
    _sign_in(rep, EMAILS["member"])
    rep.goto(f"/leads/{org.leads[0]}")
    rep.locator("#note-body").fill("5日10時に再度お電話")
    rep.get_by_role("button", name="Save note").click()
    expect(rep.locator(".tl-note .note-body")).to_have_text("5日10時に再度お電話")
    _shot(rep, "repday-note")
    assert rep.errors == []


def test_the_queue_is_worked_from_the_keyboard(
    browser: object, server: str, browser_runtime: Runtime
) -> None:
    with browser_runtime.factory() as session:
        org = build_org(session, browser_runtime, leads=3)
    expect = playwright_api.expect
    rep = _page(browser, server)
    _sign_in(rep, EMAILS["member"])
    rep.goto("/queue")
    rows = rep.locator("table.queue tbody tr[data-lead]")
    rep.keyboard.press("j")
    expect(rows.nth(0)).to_have_class("selected")
    rep.keyboard.press("j")
    expect(rows.nth(1)).to_have_class("selected")
    rep.keyboard.press("k")
    expect(rows.nth(0)).to_have_class("selected")
    lead = rows.nth(0).get_attribute("data-lead")
    rep.keyboard.press("1")  # 1 = Called: no answer, the row's first button
    expect(rep.locator(f"#q-{lead} .stage")).to_have_text("Touch 1")
    rep.keyboard.press("?")
    expect(rep.locator("#queue-keys")).to_be_visible()
    expect(rep.locator("#queue-keys")).to_contain_text("Called: no answer")
    _shot(rep, "repday-queue-keys")
    rep.get_by_role("button", name="Close").click()
    expect(rep.locator("#queue-keys")).to_be_hidden()
    assert org.leads
    assert rep.errors == []
