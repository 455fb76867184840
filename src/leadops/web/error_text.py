"""Domain errors in the reader's language: the messages the pages meet most, recognised by their
English form and said again through the catalogs. Anything else is shown as the domain says it."""

from __future__ import annotations

import re
from collections.abc import Callable


def N_(message: str) -> str:
    """Marks a string for the catalogs; it is translated where it is shown."""
    return message


#: (the English message, the msgid that says it with the same named parts).
KNOWN: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"moving a lead to (?P<status>\S+) needs a reason"),
        N_("moving a lead to %(status)s needs a reason"),
    ),
    (
        re.compile(
            r"the lead is (?P<status>\S+): move it back to a worked status "
            r"\((?P<worked>[^)]*)\) before touching it"
        ),
        N_(
            "the lead is %(status)s: move it back to a worked status (%(worked)s) before "
            "logging a touch"
        ),
    ),
    (
        re.compile(r"(?P<value>\S+) is out of range: the most is (?P<most>\S+)"),
        N_("%(value)s is out of range: the most is %(most)s"),
    ),
)


def localized(gettext: Callable[..., str], message: str) -> str:
    """``message`` with each known part in the catalog's words (a field's name before it, say
    ``reason: ``, stays); what is not known stays as it is."""
    for pattern, msgid in KNOWN:
        message = pattern.sub(_saying(gettext, msgid), message)
    return message


def _saying(gettext: Callable[..., str], msgid: str) -> Callable[[re.Match[str]], str]:
    def say(match: re.Match[str]) -> str:
        return gettext(msgid, **match.groupdict())

    return say
