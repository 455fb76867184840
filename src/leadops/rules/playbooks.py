"""Playbook texts: the placeholders an e-mail subject, body or call script may hold, and filling
them with a lead's values.

A placeholder is a key in braces (``{last_name}``); ``{{`` and ``}}`` are literal braces. Texts are
filled by looking each key up in a fixed list, never with ``str.format`` (which would let a text
reach into attributes), so a rules document cannot run anything.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

#: The keys a playbook text may use, with what they stand for.
PLACEHOLDERS: dict[str, str] = {
    "last_name": "the lead's last name (姓)",
    "first_name": "the lead's first name (名)",
    "company": "the lead's company",
    "department": "the lead's department",
    "title": "the lead's job title",
    "owner_name": "the name of the lead's owner (the rep)",
    "owner_email": "the e-mail of the lead's owner",
}
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")


class PlaceholderError(ValueError):
    pass


def placeholders_in(text: str) -> list[str]:
    """The placeholder keys in ``text``, in order; PlaceholderError names an unknown key or a stray
    brace."""
    keys = []
    for match in _TOKEN.finditer(text):
        token = match.group(0)
        if token in ("{{", "}}"):
            continue
        if match.group(1) is None:
            raise PlaceholderError(
                f"a lone {token!r} at character {match.start() + 1}: write {token * 2} for a brace"
            )
        key = match.group(1).strip()
        if key not in PLACEHOLDERS:
            raise PlaceholderError(
                f"unknown placeholder {{{key}}}; placeholders are "
                + ", ".join(f"{{{k}}}" for k in PLACEHOLDERS)
            )
        keys.append(key)
    return keys


def fill(text: str, values: Mapping[str, str | None]) -> str:
    """``text`` with each placeholder replaced by its value (empty when the lead has none)."""

    def one(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "{{":
            return "{"
        if token == "}}":
            return "}"
        if match.group(1) is None:
            return token
        return values.get(match.group(1).strip()) or ""

    return _TOKEN.sub(one, text)
