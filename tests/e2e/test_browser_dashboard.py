"""The dashboard in a real browser: the chart is drawn from its JSON data attribute (no inline
script), in English and in Japanese, on a wide and a narrow screen."""

from __future__ import annotations

from pathlib import Path

import pytest

from leadops.runtime import Runtime
from tests.e2e.test_browser import (  # noqa: F401 (fixtures)
    CHROMIUM,
    _page,
    _shot,
    _sign_in,
    browser,
    browser_runtime,
    server,
)
from tests.e2e.test_dashboard import work
from tests.webapp import EMAILS, build_org

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no Chromium at {CHROMIUM}")
playwright_api = pytest.importorskip("playwright.sync_api")


def test_the_dashboard_draws_its_chart_for_a_manager(
    browser: object,  # noqa: F811
    server: str,  # noqa: F811
    browser_runtime: Runtime,  # noqa: F811
) -> None:
    with browser_runtime.factory() as session:
        org = build_org(session, browser_runtime, leads=2)
        work(browser_runtime, session, org)
    expect = playwright_api.expect
    page = _page(browser, server)
    _sign_in(page, EMAILS["manager"])
    page.goto("/dashboard?lang=ja")  # type: ignore[attr-defined]
    expect(page.locator("#chart svg")).to_be_visible()  # type: ignore[attr-defined]
    expect(page.locator('tr[data-member="total"]')).to_contain_text("チーム合計")  # type: ignore[attr-defined]
    expect(page.locator("#chart svg")).to_contain_text("Member2")  # type: ignore[attr-defined]
    _shot(page, "dashboard-manager-ja")
    page.set_viewport_size({"width": 390, "height": 844})  # type: ignore[attr-defined]
    _shot(page, "dashboard-manager-ja-narrow")
    assert page.errors == []  # type: ignore[attr-defined]
    rep = _page(browser, server)
    _sign_in(rep, EMAILS["member"])
    rep.goto("/dashboard?lang=ja")  # type: ignore[attr-defined]
    expect(rep.locator("#chart svg")).to_be_visible()  # type: ignore[attr-defined]
    expect(rep.locator("tbody tr")).to_have_count(1)  # type: ignore[attr-defined]
    _shot(rep, "dashboard-member-ja")
    assert rep.errors == []  # type: ignore[attr-defined]
