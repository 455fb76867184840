"""A refused action in the reader's language: the domain's and the validation's English messages
(``no lead 12``, ``Input should be a valid integer…``, ``moving a lead to recycled needs a
reason``) matched to catalog strings, their codes (statuses, fields) as words. The API keeps the
English text; only pages say it in Japanese. A message no pattern knows is shown as it is."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache

from leadops.web.i18n import N_, Translator

#: The things a "no THING ID" message names.
THINGS = (
    N_("lead"),
    N_("account"),
    N_("user"),
    N_("team"),
    N_("opportunity"),
    N_("campaign"),
    N_("import job"),
    N_("task"),
    N_("view"),
    N_("token"),
    N_("webhook"),
    N_("notification"),
    N_("rules version"),
)
#: Pattern of the English message, the catalog's text with the pattern's groups.
PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^no (?P<thing>[a-z ]+?) #?(?P<id>\d+)$"), N_("No %(thing)s %(id)s was found")),
    (re.compile(r"^no report '(?P<name>[^']*)'.*$"), N_("There is no report %(name)s")),
    (re.compile(r"^Input should be a valid integer.*$"), N_("Enter a whole number")),
    (re.compile(r"^Input should be a valid number.*$"), N_("Enter a number")),
    (re.compile(r"^Input should be a valid date.*$"), N_("Enter a date (YYYY-MM-DD)")),
    (re.compile(r"^Field required$"), N_("This field is required")),
    (
        re.compile(r"^Input should be greater than or equal to (?P<n>-?\d+)$"),
        N_("Enter %(n)s or more"),
    ),
    (
        re.compile(r"^Input should be less than or equal to (?P<n>-?\d+)$"),
        N_("Enter %(n)s or less"),
    ),
    (
        re.compile(r"^moving a lead to (?P<status>\S+) needs a reason$"),
        N_("Moving a lead to %(status)s needs a reason"),
    ),
    (
        re.compile(
            r"^the lead is (?P<status>\S+): move it back to a worked status "
            r"\((?P<worked>[^)]*)\) before touching it$"
        ),
        N_(
            "The lead is %(status)s: move it back to a worked status (%(worked)s) "
            "before logging a touch"
        ),
    ),
    (
        re.compile(r"^(?P<value>\S+) is out of range: the most is (?P<most>\S+)$"),
        N_("%(value)s is out of range: the most is %(most)s"),
    ),
    (re.compile(r"^a reassignment needs a reason$"), N_("A reassignment needs a reason")),
    (
        re.compile(r"^the (?P<role>[a-z]+) role works only on its own leads$"),
        N_("the %(role)s role works only on its own leads"),
    ),
    (
        re.compile(r"^(?P<who>\S+) may not act for (?P<whom>\S+): (?P<rule>.+)$"),
        N_("%(who)s may not act for %(whom)s: %(rule)s"),
    ),
    (
        re.compile(r"^the (?P<role>[a-z]+) role may not (?P<what>.+)$"),
        N_("The %(role)s role may not %(what)s"),
    ),
    (re.compile(r"^invalid input$"), N_("The input is not valid")),
    (re.compile(r"^(?P<who>\S+@\S+) is not active$"), N_("%(who)s is not active")),
    (
        re.compile(r"^no change: the document says what the active version (?P<v>\d+) says$"),
        N_("No change: the document says what the active version %(v)s says"),
    ),
)
#: What ``auth.act_for`` says a role may do, when it refuses.
ACTING_RULES = (
    N_("a manager acts only for themselves and the members of the teams they manage"),
    N_("the member role acts only for itself"),
    N_("the admin role acts only for itself"),
    N_("the marketing role acts only for itself"),
)
FIELDS = (N_("reason"), N_("status"), N_("threshold"), N_("form"), N_("from"), N_("to"))
FIELDS_OF_RULES = (N_("comment"), N_("document"))
#: What a permission lets a role do, as ``security.PERMISSIONS`` says it in a 403 message.
PERMITTED = (
    N_("read leads and reports"),
    N_("log touches, change statuses and book appointments"),
    N_("see the team board, reassign and route leads"),
    N_("create leads and activities or import files"),
    N_("change the rules"),
    N_("manage users, teams and other people's tokens"),
)
#: Messages said as they are, once translated.
MESSAGES = (
    N_("a comment is required: say what changed and why"),
    N_("the form's security token is missing or out of date; reload the page and try again"),
    N_("this API token has the read scope; it may only read"),
)


#: Pattern groups said as they are (an e-mail address).
AS_IS = frozenset({"who"})


def saying(t: Translator, statuses: Callable[[], dict[str, str]]) -> Callable[[str], str]:
    """The function a page uses to say an error message (and a field's name) in ``t``'s locale;
    ``statuses`` gives the statuses' labels when a message names one."""
    labels = cache(statuses)

    def word(value: str) -> str:
        return labels().get(value) or t.gettext(value)

    def words(value: str) -> str:  # "lead, new": each code of a list as a word
        return "、".join(word(part) for part in value.split(", ")) if ", " in value else word(value)

    def say(message: str) -> str:
        text = str(message)
        if t.locale == "en":  # the messages are English already, and name fields as the API does
            return text
        if "; " in text and ": " in text:  # a ValidationFailed's joined "field: message" list
            return "; ".join(say(part) for part in text.split("; "))
        field, sep, rest = text.partition(": ")
        if (
            sep
            and re.fullmatch(r"[a-z_.]+", field)
            and word(last := field.rsplit(".", 1)[-1]) != last
        ):
            return f"{word(last)}: {say(rest)}"
        for pattern, catalog_text in PATTERNS:
            if found := pattern.match(text):
                named = {  # what a role may do is one phrase, commas and all; an e-mail as is
                    k: v if k in AS_IS else word(v) if k == "what" else words(v)
                    for k, v in found.groupdict().items()
                }
                return t.gettext(catalog_text, **named)
        return t.gettext(text)

    return say
