"""What a Japanese user reads: no identifier, code, raw time, JSON or English sentence on the
pages, for every role, on a database with realistic data (the demo, small)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from leadops.demo import build_demo, demo_sign_ins
from leadops.models import Campaign, Lead, ScoreLedger, User
from leadops.reports import REPORTS
from leadops.runtime import Runtime
from leadops.web import vocabulary
from leadops.web.report_words import REPORT_COLUMNS
from tests.webapp import build_org, signed_in

ATTRIBUTES = ("title", "aria-label", "placeholder", "alt")
#: Words that are right on a Japanese page: the product, units, acronyms the Japanese UI uses.
ALLOWED = {"leadops", "MQL", "SQL", "SLA", "CSV", "XLSX", "ID", "API", "URL", "BDR", "OK"}
CODES = {
    word
    for name in dir(vocabulary)
    if name.isupper() and isinstance(getattr(vocabulary, name), tuple)
    for word in getattr(vocabulary, name)
} | set(REPORT_COLUMNS)
SNAKE = re.compile(r"(?<![\w@./-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w@/-])")
ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:")
USER_REF = re.compile(r"\buser:\d+")
JSON = re.compile(r"[{\[]\s*\"")
EMAIL_OR_URL = re.compile(r"\S+@\S+|https?://\S+|/\S+")
SENTENCE = re.compile(r"[A-Za-z][A-Za-z'’]*(?:[ ,]+[A-Za-z][A-Za-z'’]*){2,}")


class VisibleText(HTMLParser):
    """The text a person sees or hears: text outside scripts and styles, and the attributes a
    screen reader or a tooltip reads. An element marked ``translate="no"`` is the user's own
    document shown as it is (the rules YAML in its editor, a diff of it) and is not read."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0
        self._verbatim: list[str] = []  # the tag of the open translate="no" element, nested

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "template"):
            self._hidden += 1
        if self._verbatim and tag == self._verbatim[0] or ("translate", "no") in attrs:
            self._verbatim.append(tag)
        if not self._verbatim:
            self.parts += [v for k, v in attrs if k in ATTRIBUTES and v]

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template"):
            self._hidden -= 1
        if self._verbatim and tag == self._verbatim[0]:
            self._verbatim.pop()

    def handle_data(self, data: str) -> None:
        if not self._hidden and not self._verbatim and data.strip():
            self.parts.append(data.strip())


def visible(html: str) -> list[str]:
    parser = VisibleText()
    parser.feed(html)
    return parser.parts


def problems(html: str, allowed: set[str]) -> list[str]:
    """What a Japanese reader should not see in the page, each with the text it is in."""
    found = []
    for text in visible(html):
        plain = EMAIL_OR_URL.sub(" ", text)
        for word in allowed:
            plain = plain.replace(word, " ")
        hits = [m.group() for m in SNAKE.finditer(plain)]
        hits += [w for w in re.findall(r"[a-z][a-z0-9_-]+", plain) if w in CODES]
        hits += [m.group() for p in (ISO_TIME, USER_REF, JSON) for m in p.finditer(text)]
        hits += [m.group() for m in SENTENCE.finditer(plain)]
        found += [f"{hit!r} in {text[:120]!r}" for hit in hits]
    return sorted(set(found))


@pytest.fixture
def demo(runtime: Runtime) -> dict[str, int]:
    """The demo, small, and one user of each role (they prefer Japanese)."""
    build_demo(runtime, leads=300)
    with runtime.factory() as session:
        emails = {role: email for role, email, _ in demo_sign_ins(session)}
        ids = dict(session.execute(select(User.email, User.id)).all())
    return {role: ids[email] for role, email in emails.items()}


def _allowed(runtime: Runtime) -> set[str]:
    """The explicit allow-list, and data the pages rightly show as it is (company names)."""
    with runtime.factory() as session:
        companies = {c for c in session.scalars(select(Lead.company)).all() if c}
        campaigns = set(session.scalars(select(Campaign.name)).all())
    return ALLOWED | companies | campaigns


def test_every_report_speaks_japanese_to_every_role(runtime: Runtime, demo: dict[str, int]) -> None:
    allowed = _allowed(runtime)
    assert set(demo) == {"admin", "manager", "member", "marketing"}
    failures = []
    for role, user_id in demo.items():
        client = signed_in(runtime, user_id)
        for path in ["/reports", *(f"/reports/{name}" for name in sorted(REPORTS))]:
            page = client.get(path, headers={"Accept-Language": "ja"}, params={"lang": "ja"})
            assert page.status_code == 200, (role, path, page.text[:300])
            assert "<tbody>" not in page.text or "<td" in page.text
            failures += [f"{role} {path}: {p}" for p in problems(page.text, allowed)]
    assert failures == [], "\n".join(failures[:60])


def test_report_numbers_read_as_people_write_them(runtime: Runtime, demo: dict[str, int]) -> None:
    client = signed_in(runtime, demo["manager"])
    funnel = client.get("/reports/funnel", params={"lang": "ja"}).text
    assert re.search(r"\d+\.\d%", funnel), "rates as percentages"
    assert not re.search(r"<td class=\"num\">0\.\d{3,}</td>", funnel)
    pipeline = client.get("/reports/pipeline", params={"lang": "ja"}).text
    assert re.search(r"[¥￥]\d{1,3}(,\d{3})+", pipeline), "amounts in yen with separators"
    chart = re.search(r'id="chart-option">(.*?)</script>', pipeline, re.S)
    assert chart is not None
    assert "to_contact" not in chart.group(1), "the chart's axis names the stages in words"
    page = client.get("/reports/funnel", params={"lang": "ja"}).text
    assert "終了日" in page
    assert "担当者 <input" not in page
    english = client.get("/reports/dwell", params={"lang": "en"}).text
    assert "Mean days" in english
    assert "mean_days" not in visible(english)


def test_the_lead_page_and_the_queue_speak_japanese(runtime: Runtime, demo: dict[str, int]) -> None:
    """The timeline's events, actors, payloads and touches, and the queue's templates, in words:
    no stage or status code, no ``user:<id>``, no JSON, owners by name."""
    allowed = _allowed(runtime)
    with runtime.factory() as session:
        lead_id = session.scalars(select(Lead.id).order_by(Lead.id)).first()
        emails = set(session.scalars(select(User.email)).all())
    failures = []
    for role, user_id in demo.items():
        client = signed_in(runtime, user_id)
        for path in ["/queue", f"/leads/{lead_id}"]:
            page = client.get(path, params={"lang": "ja"})
            if page.status_code == 200:
                failures += [f"{role} {path}: {p}" for p in problems(page.text, allowed)]
                timeline = page.text.partition('class="timeline"')[2]
                failures += [f"{role} {path}: {e}" for e in emails if f"{e} →" in timeline]
    assert failures == [], "\n".join(failures[:60])
    page = signed_in(runtime, demo["member"]).get(f"/leads/{lead_id}", params={"lang": "ja"})
    assert "ルール" in page.text
    assert "タッチ1" in page.text
    queue = signed_in(runtime, demo["member"]).get("/queue", params={"lang": "ja"}).text
    assert re.search(
        r'class="template" data-template="[^"]+">[^<]*[\u3040-\u30ff\u4e00-\u9fff]', queue
    )


def test_every_page_speaks_japanese_to_every_role(runtime: Runtime, demo: dict[str, int]) -> None:
    allowed = _allowed(runtime)
    with runtime.factory() as session:
        lead = session.scalars(
            select(Lead).where(Lead.account_id.is_not(None)).order_by(Lead.id)
        ).first()
        assert lead is not None
        assert lead.company
        lead_id, account_id, company = lead.id, lead.account_id, lead.company
    paths = ["/dashboard", "/queue", "/leads", f"/leads/{lead_id}", f"/accounts/{account_id}"]
    paths += ["/board", "/rules", "/import", "/notifications", "/settings", "/reports"]
    paths += [f"/search?q={company}", *(f"/reports/{name}" for name in sorted(REPORTS))]
    failures, seen = [], set()
    for role, user_id in demo.items():
        client = signed_in(runtime, user_id)
        for path in paths:
            page = client.get(path, params={"lang": "ja"})
            assert page.status_code in (200, 403), (role, path, page.status_code)
            seen.add(page.status_code)
            failures += [f"{role} {path}: {p}" for p in problems(page.text, allowed)]
    assert seen == {200, 403}, "the walk reads pages and refusals"
    assert failures == [], "\n".join(failures[:60])


def test_refused_actions_speak_japanese(runtime: Runtime) -> None:
    with runtime.factory() as session:
        org = build_org(session, runtime)
    client = signed_in(runtime, org.users["manager"])
    for path in [
        "/leads/999999",
        "/reports/funnel?threshold=abc",
        "/reports/score-jumps?threshold=x",
    ]:
        page = client.get(path + ("&" if "?" in path else "?") + "lang=ja")
        assert page.status_code >= 400, path
        assert problems(page.text, ALLOWED) == [], (path, problems(page.text, ALLOWED))


def test_a_recycle_without_reason_is_refused_in_japanese(runtime: Runtime) -> None:
    with runtime.factory() as session:
        org = build_org(session, runtime)
    client = signed_in(runtime, org.users["member"])
    answer = client.post(
        f"/leads/{org.leads[0]}/status?lang=ja", data={"status": "recycled", "reason": ""}
    )
    assert answer.status_code == 422, answer.text[:300]
    assert "理由" in answer.text
    assert problems(answer.text, ALLOWED) == []


def test_a_refusal_speaks_the_callers_language(runtime: Runtime) -> None:
    """A role's refusal and a stale form's refusal in the signed-in user's language, with no
    ?lang= and whatever the browser asks for."""
    with runtime.factory() as session:
        org = build_org(session, runtime)
        session.get_one(User, org.users["member"]).locale = "ja"
        session.commit()
    client = signed_in(runtime, org.users["member"])
    board = client.get("/board", headers={"Accept-Language": "en"})
    assert board.status_code == 403
    assert "メンバー権限ではチームボードを見たり" in board.text
    forged = client.post(
        f"/leads/{org.leads[0]}/touch",
        data={"channel": "call", "outcome": "no_answer"},
        headers={"X-CSRF-Token": "forged", "Accept-Language": "en"},
    )
    assert forged.status_code == 403
    assert "セキュリティトークン" in forged.text
    assert problems(board.text, ALLOWED) == problems(forged.text, ALLOWED) == []


def test_score_lines_name_the_rule_in_words(runtime: Runtime, demo: dict[str, int]) -> None:
    with runtime.factory() as session:
        lead_id = session.scalars(
            select(ScoreLedger.lead_id).where(ScoreLedger.rule_id == "contact-form")
        ).first()
    page = signed_in(runtime, demo["manager"]).get(f"/leads/{lead_id}", params={"lang": "ja"})
    line = re.search(r'<span data-rule="contact-form">([^<]*)</span>', page.text)
    assert line is not None
    assert line.group(1).startswith("お問い合わせフォームに記入")
    assert "</strong> contact-form" not in page.text
    assert "(スコア " in page.text, "a temperature change names the score in words"
    assert "(score " not in page.text
