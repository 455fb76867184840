"""Changing the rules from the Rules page: a change needs its comment, a document that changes
nothing is refused, and the worker rescores every lead under the version applied."""

from __future__ import annotations

import html
from typing import Any

from sqlalchemy import func, select

from leadops.models import Lead, RulesVersion
from leadops.runtime import Runtime
from leadops.worker import run_once
from tests.webapp import build_org, signed_in


def _document(page: str) -> str:
    text = page.split('name="document" rows="28" spellcheck="false" class="code" translate="no">')[
        1
    ]
    return html.unescape(text.split("</textarea>")[0])


def test_a_change_without_a_comment_or_without_a_change_is_refused_in_japanese(
    runtime: Runtime, session: Any
) -> None:
    org = build_org(session, runtime, leads=1)
    marketing = signed_in(runtime, org.users["marketing"])
    text = _document(marketing.get("/rules").text)
    changed = text.replace("points: 10", "points: 11", 1)
    bare = marketing.post("/rules/apply", data={"document": changed, "comment": "  "})
    assert bare.status_code == 422
    assert "a comment is required" in bare.text
    assert html.unescape(bare.text).count("points: 11") == 1  # the draft is kept, not lost
    same = marketing.post(
        "/rules/apply",
        data={"document": "# only a comment\n" + text, "comment": "again"},
        params={"lang": "ja"},
    )
    assert same.status_code == 422
    assert "変更がありません" in same.text
    assert session.scalar(select(func.count()).select_from(RulesVersion)) == 1


def test_the_worker_rescores_every_lead_under_a_version_applied_from_the_web(
    runtime: Runtime, session: Any
) -> None:
    org = build_org(session, runtime, leads=3)
    marketing = signed_in(runtime, org.users["marketing"])
    text = _document(marketing.get("/rules").text)
    applied = marketing.post(
        "/rules/apply",
        data={"document": text.replace("points: 10", "points: 11", 1), "comment": "more"},
    )
    assert applied.headers["location"] == "/rules?applied=2"
    page = marketing.get("/rules?applied=2", params={"lang": "ja"}).text
    assert 'id="rescoring"' in page
    assert "3" in page.split('id="rescoring"')[1].split("</p>")[0]

    report = run_once(runtime, runtime.clock.now())
    assert report.rescored_leads == 3
    session.expire_all()
    versions = session.scalars(select(Lead.scored_version).where(Lead.id.in_(org.leads))).all()
    assert versions == [2, 2, 2]
    assert session.scalar(select(RulesVersion.rescored_at).where(RulesVersion.version == 2))
    assert 'id="rescoring"' not in marketing.get("/rules").text
    assert run_once(runtime, runtime.clock.now()).rescored_leads == 0  # once


def test_the_preview_button_says_in_japanese_what_a_draft_would_change_and_writes_nothing(
    runtime: Runtime, session: Any
) -> None:
    org = build_org(session, runtime, leads=3)
    marketing = signed_in(runtime, org.users["marketing"])
    text = _document(marketing.get("/rules").text)
    assert 'hx-post="/rules/preview"' in marketing.get("/rules").text
    warmer = text.replace("{name: cold, below: 40}", "{name: cold, below: 0}", 1)
    assert warmer != text
    shown = marketing.post("/rules/preview", data={"document": warmer}, params={"lang": "ja"})
    assert shown.status_code == 200
    page = html.unescape(shown.text)
    assert "何も書き込んでいません" in page
    row = page.split("<td>温度感</td>")[1].split("</tr>")[0]
    assert "<td>コールド</td><td>ウォーム</td>" in row.replace("\n", "")
    assert '<td class="num">3</td>' in row
    assert session.scalar(select(func.count()).select_from(RulesVersion)) == 1
    session.expire_all()
    temperatures = session.scalars(select(Lead.temperature).where(Lead.id.in_(org.leads))).all()
    assert set(temperatures) == {"cold"}
    broken = marketing.post(
        "/rules/preview", data={"document": warmer.replace("below: 0", "below: cold")}
    )
    assert 'id="rule-problems"' in broken.text
    rep = signed_in(runtime, org.users["member"])
    assert rep.post("/rules/preview", data={"document": warmer}).status_code == 403
