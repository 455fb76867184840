"""A rep's day over HTTP: the header's search box, my leads, the touch-4 lead leaving the queue."""

from __future__ import annotations

import re
from typing import Any

from leadops.runtime import Runtime
from tests.factories import make_lead
from tests.webapp import build_org, lead_of, signed_in


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


def test_a_touch_4_lead_leaves_the_queue_and_a_further_try_recycles_it(
    runtime: Runtime, session: Any
) -> None:
    org = build_org(session, runtime, leads=2)
    rep = signed_in(runtime, org.users["member"])
    lead = org.leads[0]
    for _ in range(4):
        row = rep.post(
            f"/leads/{lead}/touch",
            data={"channel": "call", "outcome": "no_answer", "view": "queue"},
        )
    assert 'data-stage="touch_4"' in row.text
    assert "data-left-queue" in row.text
    assert f'id="q-{lead}"' not in rep.get("/queue").text  # waiting for a reply: nothing due
    assert f'id="q-{org.leads[1]}"' in rep.get("/queue").text
    again = rep.post(f"/leads/{lead}/touch", data={"channel": "call", "outcome": "no_answer"})
    assert "No connect" in again.text  # recycled through the door (its reason), the deadline gone
    assert lead_of(session, lead).status == "recycled"
    assert lead_of(session, lead).next_due_at is None


def test_the_lead_page_and_the_queue_link_phones_and_e_mails(
    runtime: Runtime, session: Any
) -> None:
    org = build_org(session, runtime, leads=1)
    rep = signed_in(runtime, org.users["member"])
    lead = org.leads[0]
    assert "mailto:lead0@customer0.co.jp" in rep.get(f"/leads/{lead}").text
    assert "mailto:lead0@customer0.co.jp" in rep.get("/queue").text


def test_a_rep_lands_on_their_own_leads_with_a_toggle_to_all(
    runtime: Runtime, session: Any
) -> None:
    org = build_org(session, runtime, leads=2)
    other = make_lead(session, runtime, email="nobody@else.example", company="他社")
    session.commit()
    rep = signed_in(runtime, org.users["member"])
    mine = rep.get("/leads").text
    assert f'href="/leads/{org.leads[0]}"' in mine
    assert f'href="/leads/{other.id}"' not in mine
    assert "all=1" in mine  # the toggle
    # The stage tabs count the rep's own leads, as the list shows them.
    assert re.search(r'>すべて <span class="count">2</span>', rep.get("/leads?lang=ja").text)
    everything = rep.get("/leads", params={"all": "1"}).text
    assert f'href="/leads/{other.id}"' in everything
    assert re.search(r'>All <span class="count">3</span>', everything)
    manager = signed_in(runtime, org.users["manager"])
    assert f'href="/leads/{other.id}"' in manager.get("/leads").text  # managers see all


def test_a_note_on_a_lead_shows_on_its_timeline_with_who_and_when(
    runtime: Runtime, session: Any
) -> None:
    org = build_org(session, runtime, leads=1)
    rep = signed_in(runtime, org.users["member"])
    lead = org.leads[0]
    page = rep.post(f"/leads/{lead}/notes", data={"body": "予算は来期。5日に再連絡"}).text
    assert "Note added." in page
    assert 'class="note-body">予算は来期。5日に再連絡' in page
    assert "Member" in page.split('class="tl-note"')[1][:400]  # who wrote it
    refused = rep.post(f"/leads/{lead}/notes", data={"body": "  "})
    assert refused.status_code == 422
    assert "body" in refused.text
