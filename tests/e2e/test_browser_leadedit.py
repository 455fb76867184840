"""In a real browser: correcting a lead's details (the timeline's line, an error in place), a bulk
reassignment from the lead list, and the queue, the lead page and the lead list at a phone's
width (390×844) without scrolling sideways, on leads with long Japanese company names."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from leadops.models import Campaign, User
from leadops.runtime import Runtime
from tests.e2e import test_browser as shared
from tests.e2e.test_browser import _page, _shot, _sign_in, playwright_api
from tests.factories import give, make_lead
from tests.webapp import EMAILS, Org, build_org

pytestmark = shared.pytestmark
#: The browser tests' fixtures: a server over its own database, and Chromium.
browser_runtime = shared.browser_runtime
server = shared.server
browser = shared.browser

LONG_COMPANIES = (
    "株式会社東日本グローバルインフォメーションテクノロジーソリューションズホールディングス",
    "医療法人社団さくら会総合メディカルヘルスケアサポートセンター北関東地域統括本部",
    "一般社団法人日本スマートファクトリーデジタルトランスフォーメーション推進協議会",
)


def _org(runtime: Runtime, *, many: int = 0, locale: str = "en") -> Org:
    """The small organisation, and ``many`` more leads of the first rep with long company names,
    each with a touch due."""
    with runtime.factory() as session:
        org = build_org(session, runtime, leads=3)
        now = runtime.clock.now()
        for i in range(many):
            lead = make_lead(
                session,
                runtime,
                email=f"buyer{i}@long{i}.co.jp",
                company=f"{LONG_COMPANIES[i % 3]}{i}",
                last_name="長谷川",
                first_name=f"一郎{i}",
                phone="03-1234-5678",
                title="情報システム部 部長代理",
            )
            give(session, runtime, lead, owner_id=org.users["member"], team_id=org.team_id)
            lead.next_due_at = now - timedelta(minutes=10 + i)
        if many:
            name = "東日本エリア向け製造業DX推進オンラインセミナー2026年度第3回（共催: 日本DX協会）"
            session.add(Campaign(name=name, type="webinar", created_at=now))
        session.execute(update(User).values(locale=locale))
        session.commit()
    return org


def _signed_in_page(browser: object, server: str, who: str, **size: int) -> object:
    page = _page(browser, server)
    if size:
        page.set_viewport_size(size)  # type: ignore[attr-defined]
    _sign_in(page, EMAILS[who])
    return page


def test_a_rep_corrects_a_title_and_sees_it_on_the_timeline(
    browser: object, server: str, browser_runtime: Runtime
) -> None:
    org = _org(browser_runtime)
    expect = playwright_api.expect
    page = _signed_in_page(browser, server, "member")
    page.goto(f"/leads/{org.leads[0]}")  # type: ignore[attr-defined]
    page.get_by_text("Edit details").click()  # type: ignore[attr-defined]
    page.get_by_label("Job title").fill("情報システム部長")  # type: ignore[attr-defined]
    page.get_by_role("button", name="Save details").click()  # type: ignore[attr-defined]
    expect(page.get_by_role("status").first).to_contain_text("Details saved: Job title.")  # type: ignore[attr-defined]
    line = page.locator("ol.timeline li", has_text="Changed Job title")  # type: ignore[attr-defined]
    expect(line).to_contain_text("∅ → 情報システム部長")
    expect(line).to_contain_text("Member")
    _shot(page, "leadedit-saved")
    assert page.errors == []  # type: ignore[attr-defined]


def test_a_bad_phone_is_refused_next_to_its_field_in_japanese(
    browser: object, server: str, browser_runtime: Runtime
) -> None:
    org = _org(browser_runtime, locale="ja")
    expect = playwright_api.expect
    page = _signed_in_page(browser, server, "member")
    page.goto(f"/leads/{org.leads[0]}")  # type: ignore[attr-defined]
    page.get_by_text("リード情報を編集").click()  # type: ignore[attr-defined]
    page.get_by_label("電話番号").fill("12345")  # type: ignore[attr-defined]
    page.get_by_label("会社名").fill("株式会社新社名")  # type: ignore[attr-defined]
    page.get_by_role("button", name="詳細を保存").click()  # type: ignore[attr-defined]
    error = page.locator("#error-phone")  # type: ignore[attr-defined]
    expect(error).to_contain_text("12345 は電話番号ではありません")
    expect(page.get_by_label("電話番号")).to_have_attribute("aria-invalid", "true")  # type: ignore[attr-defined]
    expect(page.get_by_label("会社名")).to_have_value("株式会社新社名")  # type: ignore[attr-defined]
    _shot(page, "leadedit-bad-phone-ja")
    page.goto(f"/leads/{org.leads[0]}")  # type: ignore[attr-defined]
    expect(page.locator("h1")).to_contain_text("株式会社顧客0")  # type: ignore[attr-defined]


def test_a_manager_reassigns_two_leads_from_the_list(
    browser: object, server: str, browser_runtime: Runtime
) -> None:
    _org(browser_runtime)
    expect = playwright_api.expect
    page = _signed_in_page(browser, server, "manager")
    page.goto("/leads")  # type: ignore[attr-defined]
    page.get_by_label("Select all on this page").check()  # type: ignore[attr-defined]
    boxes = page.locator('input[name="lead"]')  # type: ignore[attr-defined]
    assert boxes.count() == 3
    for i in range(3):
        expect(boxes.nth(i)).to_be_checked()
    page.get_by_label("Select all on this page").uncheck()  # type: ignore[attr-defined]
    page.get_by_label("Select 顧客0").check()  # type: ignore[attr-defined]
    page.get_by_label("Select 顧客1").check()  # type: ignore[attr-defined]
    page.get_by_label("Action").select_option("reassign")  # type: ignore[attr-defined]
    page.locator('select[name="to"]').select_option(label="Member2")  # type: ignore[attr-defined]
    page.locator('#bulk-form input[name="reason"]').fill("休暇のため")  # type: ignore[attr-defined]
    page.get_by_role("button", name="Apply to the selection").click()  # type: ignore[attr-defined]
    expect(page.locator("#bulk-result")).to_contain_text("2 changed, 0 already so, 0 refused.")  # type: ignore[attr-defined]
    rows = page.locator("table.leads tbody tr")  # type: ignore[attr-defined]
    expect(rows.filter(has_text="顧客0").locator("td.owner")).to_have_text("Member2")
    expect(rows.filter(has_text="顧客1").locator("td.owner")).to_have_text("Member2")
    expect(rows.filter(has_text="顧客2").locator("td.owner")).to_have_text("Member")
    _shot(page, "leadedit-bulk-reassigned")
    assert page.errors == []  # type: ignore[attr-defined]


@pytest.mark.parametrize("where", ["queue", "lead", "leads"])
def test_the_pages_fit_a_phone_without_scrolling_sideways(
    browser: object, server: str, browser_runtime: Runtime, where: str
) -> None:
    org = _org(browser_runtime, many=60, locale="ja")
    page = _signed_in_page(browser, server, "member", width=390, height=844)
    path = {"queue": "/queue", "lead": f"/leads/{org.leads[0] + 3}", "leads": "/leads"}[where]
    page.goto(path)  # type: ignore[attr-defined]
    if where == "lead":
        page.locator("#edit-details summary").click()  # type: ignore[attr-defined]
    page.wait_for_load_state()  # type: ignore[attr-defined]
    width = page.evaluate("document.documentElement.scrollWidth")  # type: ignore[attr-defined]
    _shot(page, f"leadedit-phone-{where}")
    assert width <= 390, f"{path} is {width} px wide at 390 px"
    if where == "leads":
        company = page.locator("table.leads td.company").first  # type: ignore[attr-defined]
        box = company.bounding_box()
        assert box is not None
        assert box["width"] > 200  # the company name reads across the card, not down it
