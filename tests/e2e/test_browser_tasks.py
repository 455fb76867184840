"""Follow-ups in a real browser, on a desktop and on a phone: scheduled from the lead page and
moved, seen in the queue beside the approach requests, marked done in place; a past time refused
in place; no page scrolls sideways (see test_browser.py for the set-up)."""

from __future__ import annotations

import pytest

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

SIDEWAYS = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


@pytest.mark.parametrize("width", [1366, 390])
def test_a_follow_up_is_scheduled_on_the_lead_seen_in_the_queue_and_done(
    browser: object, server: str, browser_runtime: Runtime, width: int
) -> None:
    with browser_runtime.factory() as session:
        org = build_org(session, browser_runtime, leads=2)
    expect = playwright_api.expect
    rep = _page(browser, server)
    rep.set_viewport_size({"width": width, "height": 900 if width > 1000 else 844})
    _sign_in(rep, EMAILS["member"])
    lead = org.leads[0]
    rep.goto(f"/leads/{lead}")
    form = rep.locator("#follow-up-form")
    form.get_by_label("Date").fill("2026-11-23")
    form.get_by_label("Time").fill("08:00")  # an hour before the test's "now"
    form.get_by_role("button", name="Schedule", exact=True).click()
    expect(rep.locator("#messages .error")).to_contain_text("the due time has passed")
    form.get_by_label("Date").fill("2026-11-23")
    form.get_by_label("Time").fill("15:00")
    form.get_by_label("What to do").fill("5日10時に再架電")
    form.get_by_role("button", name="Schedule", exact=True).click()
    expect(rep.locator("#lead-page .ok")).to_have_text("Follow-up scheduled for 2026-11-23 15:00.")
    listed = rep.locator("#follow-ups li.follow-up")
    expect(listed).to_have_count(1)
    expect(listed.first).to_contain_text("5日10時に再架電")
    expect(rep.locator(".tl-follow_up").first).to_contain_text("Follow-up scheduled")
    move = rep.locator("#follow-ups details.fu-move").first
    move.locator("summary").click()
    move.get_by_label("Time").fill("16:30")
    move.locator("button").click()
    expect(rep.locator("#lead-page .ok")).to_have_text("Follow-up moved to 2026-11-23 16:30.")
    assert rep.evaluate(SIDEWAYS) <= 0
    rep.goto(f"/leads/{lead}?lang=ja")
    _shot(rep, f"tasks-lead-ja-{width}")
    rep.goto("/queue")
    row = rep.locator("#queue-follow-ups li.follow-up")
    expect(row).to_have_count(1)
    expect(row.first).to_contain_text("2026-11-23 16:30")
    expect(row.first).to_contain_text("株式会社顧客0")
    expect(rep.locator("table.queue tbody tr[data-lead]")).to_have_count(2)  # beside the touches
    assert rep.evaluate(SIDEWAYS) <= 0
    rep.goto("/queue?lang=ja")
    _shot(rep, f"tasks-queue-ja-{width}")
    rep.goto("/queue")
    rep.locator("#queue-follow-ups").get_by_role("button", name="Done").click()
    expect(rep.locator("#queue-follow-ups li.follow-up.closed .ok")).to_have_text("Follow-up done.")
    rep.reload()
    expect(rep.locator("#queue-follow-ups")).to_contain_text("No follow-up is due today.")
    rep.goto(f"/leads/{lead}")
    expect(rep.locator("#follow-ups")).to_contain_text("No follow-up is scheduled.")
    expect(rep.locator(".tl-follow_up").first).to_contain_text("Follow-up done")
    expect(rep.locator(".tl-follow_up", has_text="Follow-up scheduled")).to_have_count(1)
    # The refused schedule's 422 is the one line the browser logs.
    assert [e for e in rep.errors if "status of 422" not in e] == []
