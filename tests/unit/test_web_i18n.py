"""Every string the web app shows is in the catalogs: a template string left untranslated fails
here."""

from __future__ import annotations

import re
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import Environment

from leadops.web.i18n import extract_messages, messages

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "leadops" / "web" / "templates"
TAG = re.compile(r"<[^>]*>", re.S)
JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
SCRIPT = re.compile(r"<script\b.*?</script>", re.S)
ENTITY = re.compile(r"&[#a-z0-9]+;")
SHOWN_ATTRIBUTES = re.compile(r'\b(?:placeholder|title|aria-label|alt)="([^"{]+)"')
#: Text that is the same in every language: the product's name and the language switch's own names.
SAME_EVERYWHERE = {"leadops", "English", "日本語"}


def test_every_marked_string_has_a_japanese_translation() -> None:
    found = extract_messages()
    assert len(found) > 300
    ja = messages("ja")
    missing = sorted(m for m in found if not ja.get(m))
    assert missing == [], f"add these to locale/ja/LC_MESSAGES/messages.po (make i18n): {missing}"


def test_the_english_catalog_knows_every_string() -> None:
    from babel.messages.pofile import read_po

    from leadops.web.i18n import catalog_path

    with catalog_path("en").open("rb") as handle:
        known = {f"{m.context}\x04{m.id}" if m.context else m.id for m in read_po(handle) if m.id}
    assert sorted(set(extract_messages()) - known) == []


def _template_text(source: str) -> list[str]:
    """Literal text a template shows outside of {{ _("…") }}: Jinja, tags, entities and spacing
    removed."""
    Environment().parse(source)  # a template that does not parse fails here
    html = SCRIPT.sub(" ", JINJA.sub(" ", source))
    out = [m.group(1) for m in SHOWN_ATTRIBUTES.finditer(html)]
    text = ENTITY.sub(" ", TAG.sub(" ", html))
    out += [
        w for w in re.split(r"[\s·—–…|()→←↓↑×*:,./%+-]+", text) if w and re.search(r"[^\W\d_]", w)
    ]
    return [
        w.strip() for w in out if w.strip() not in SAME_EVERYWHERE and re.search(r"[^\W\d_]", w)
    ]


def test_no_template_shows_text_that_is_not_marked_for_translation() -> None:
    untranslated = {}
    for path in sorted(TEMPLATES.glob("*.html")):
        words = _template_text(path.read_text(encoding="utf-8"))
        if words:
            untranslated[path.name] = words
    assert untranslated == {}


def test_the_check_catches_a_bare_string() -> None:
    assert _template_text('<p>Leads <b>{{ _("Leads") }}</b></p><input placeholder="Search">') == [
        "Search",
        "Leads",
    ]


def test_identifiers_read_as_english_words_in_english() -> None:
    """The English catalog gives a word for every identifier msgid (touch_1 → "Touch 1")."""
    from leadops.web.i18n import Translator

    en = Translator("en", ZoneInfo("Asia/Tokyo"))
    for code in ("touch_1", "from_previous", "mean_days", "inquiry_form", "no_answer"):
        assert "_" not in en.gettext(code), code
    assert en.gettext("touch_1") == "Touch 1"
    assert en.pgettext("date range", "To") == "To"
    ja = Translator("ja", ZoneInfo("Asia/Tokyo"))
    assert ja.pgettext("date range", "To") == "終了日"
    assert ja.gettext("To") == "担当者"
    assert ja.percent(0.2484) == "24.8%"
    assert ja.money(1234000) in ("¥1,234,000", "￥1,234,000")
