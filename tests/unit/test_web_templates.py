"""The templates run no inline code, so the Content-Security-Policy (script-src 'self', style-src
'self') can refuse all of it: scripts come from static files, data comes in data-* attributes or
<script type="application/json"> blocks, and nothing is styled in place."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "leadops" / "web" / "templates"
DATA_TYPES = {"application/json", "application/ld+json"}
HANDLER = re.compile(r"^on[a-z]+$")


class InlineCode(HTMLParser):
    """Collects what a strict Content-Security-Policy would block, with its line."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._script: tuple[int, bool] | None = None  # (line, has src) of a code script

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        line = self.getpos()[0]
        for name, value in attrs:
            if HANDLER.match(name):
                self.found.append(f"line {line}: <{tag} {name}=…> (an event handler attribute)")
            if name == "style":
                self.found.append(f"line {line}: <{tag} style=…>")
            if name in ("href", "src", "action") and (value or "").strip().startswith(
                "javascript:"
            ):
                self.found.append(f"line {line}: <{tag} {name}=javascript:…>")
        if tag == "style":
            self.found.append(f"line {line}: <style> element")
        if tag == "script" and (dict(attrs).get("type") or "") not in DATA_TYPES:
            self._script = (line, "src" in dict(attrs))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._script = None

    def handle_data(self, data: str) -> None:
        if self._script is not None and data.strip():
            line, with_src = self._script
            where = "<script src=…>" if with_src else "<script>"
            self.found.append(f"line {line}: code inside {where} (inline script)")


def inline_code(text: str) -> list[str]:
    parser = InlineCode()
    parser.feed(text)
    parser.close()
    return parser.found


@pytest.mark.parametrize("template", sorted(p.name for p in TEMPLATES.glob("*.html")))
def test_a_template_has_no_inline_script_handler_or_style(template: str) -> None:
    assert inline_code((TEMPLATES / template).read_text(encoding="utf-8")) == []


def test_the_check_finds_each_kind_of_inline_code() -> None:
    found = inline_code(
        '<script>alert(1)</script><select onchange="go()"><a href="javascript:x()">'
        '<p style="color:red"><style>p{}</style><script src="/a.js">alert(2)</script>'
        '<script type="application/json" id="d">{"a": 1}</script>'
    )
    assert len(found) == 6, found
