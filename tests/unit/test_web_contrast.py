"""The stylesheet's text colours are readable: WCAG 2 contrast of at least 4.5:1 for every pairing
the pages use (body text, muted text, links, buttons, overdue dates, the header)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CSS = (
    Path(__file__).resolve().parents[2] / "src" / "leadops" / "web" / "static" / "leadops.css"
).read_text()
VARIABLES = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6})", CSS))


def luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def colour(name: str) -> str:
    return VARIABLES.get(name.lstrip("-"), name)


@pytest.mark.parametrize(
    ("text", "background"),
    [
        ("--ink", "--bg"),
        ("--ink", "#ffffff"),
        ("--muted", "#ffffff"),
        ("--muted", "--bg"),
        ("--accent", "#ffffff"),
        ("#ffffff", "--accent"),
        ("--late", "#ffffff"),
        ("--ok", "--ok-bg"),
        ("#7a1010", "--err-bg"),
        ("#f0f4f8", "#102a43"),
        ("#8a1c1c", "--err-bg"),
        ("#ffffff", "#237032"),
    ],
)
def test_text_is_readable_on_its_background(text: str, background: str) -> None:
    assert contrast(colour(text), colour(background)) >= 4.5


def test_the_check_fails_for_grey_on_white() -> None:
    assert contrast("#aaaaaa", "#ffffff") < 4.5
