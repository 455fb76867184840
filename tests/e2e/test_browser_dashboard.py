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


def _wide(page: object) -> int:
    width: int = page.evaluate("document.documentElement.scrollWidth")  # type: ignore[attr-defined]
    return width


def test_the_dashboard_draws_its_charts_for_a_manager_and_a_rep(
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
    for width, height, name in ((1366, 900, ""), (390, 844, "-narrow")):
        page.set_viewport_size({"width": width, "height": height})  # type: ignore[attr-defined]
        page.goto("/dashboard?lang=ja")  # type: ignore[attr-defined]
        for chart in ("#attainment-chart", "#chart"):
            expect(page.locator(f"{chart} svg")).to_be_visible()  # type: ignore[attr-defined]
        expect(page.locator('tr[data-member="total"]')).to_contain_text("チーム合計")  # type: ignore[attr-defined]
        expect(page.locator("#chart svg")).to_contain_text("Member2")  # type: ignore[attr-defined]
        expect(page.locator("#attainment-chart svg")).to_contain_text("タッチ数")  # type: ignore[attr-defined]
        _shot(page, f"dashboard-manager-ja{name}")
        assert _wide(page) <= width, f"the dashboard is {_wide(page)} px wide at {width} px"
    assert page.errors == []  # type: ignore[attr-defined]
    rep = _page(browser, server)
    _sign_in(rep, EMAILS["member"])
    for width, height, name in ((1366, 900, ""), (390, 844, "-narrow")):
        rep.set_viewport_size({"width": width, "height": height})  # type: ignore[attr-defined]
        rep.goto("/dashboard?lang=ja")  # type: ignore[attr-defined]
        expect(rep.locator("#attainment-chart svg")).to_be_visible()  # type: ignore[attr-defined]
        expect(rep.locator("tbody tr")).to_have_count(1)  # type: ignore[attr-defined]
        expect(rep.locator("#chart")).to_have_count(0)  # type: ignore[attr-defined]
        _shot(rep, f"dashboard-member-ja{name}")
        assert _wide(rep) <= width, f"the dashboard is {_wide(rep)} px wide at {width} px"
    assert rep.errors == []  # type: ignore[attr-defined]
