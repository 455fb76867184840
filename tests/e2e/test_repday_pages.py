"""A rep's day over HTTP: the header's search box, my leads, the touch-4 lead leaving the queue."""

from __future__ import annotations

from typing import Any

from leadops.runtime import Runtime
from tests.webapp import build_org, signed_in


def test_every_signed_in_page_has_the_search_box_and_it_finds_leads_ranked(
    runtime: Runtime, session: Any
) -> None:
    org = build_org(session, runtime, leads=3)
    rep = signed_in(runtime, org.users["member"])
    for path in ("/queue", "/leads", f"/leads/{org.leads[0]}", "/reports"):
        assert "data-search-box" in rep.get(path).text, path
    page = rep.get("/search", params={"q": "顧客1"}).text
    assert f'href="/leads/{org.leads[1]}"' in page
    assert f'href="/leads/{org.leads[0]}"' not in page
    by_company = rep.get("/search", params={"q": "（株）顧客2"}).text
    assert f'href="/leads/{org.leads[2]}"' in by_company
    assert "mailto:lead2@customer2.co.jp" in by_company
    literal = rep.get("/search", params={"q": "%"}).text
    assert 'class="search-hit"' not in literal
    assert rep.get("/search", params={"q": "x" * 301}).status_code == 422
