"""Japanese and English for the web app: Babel catalogs, the locale of a request, dates and numbers.

The source strings are English and are marked with ``_("…")`` in templates and ``t.gettext("…")`` in
Python. ``locale/<lang>/LC_MESSAGES/messages.po`` hold the translations; ``update_catalogs()`` (run
by ``make i18n``) adds new strings to every catalog, keeping the translations already made.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, tzinfo
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel import Locale, dates, numbers
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

LOCALES = ("ja", "en")
DEFAULT_LOCALE = "ja"
WEB_DIR = Path(__file__).parent
LOCALE_DIR = WEB_DIR / "locale"
METHOD_MAP = [("templates/**.html", "jinja2.ext:babel_extract"), ("**.py", "python")]
KEYWORDS: dict[str, Any] = {"_": None, "gettext": None, "N_": None, "pgettext": ((1, "c"), 2)}
#: Joins a message's context to its id in :func:`messages` (gettext's own separator).
CONTEXT_SEP = "\x04"
#: Strings shown by the web app that are defined elsewhere: the reports' one-line summaries.
OTHER_SOURCES: list[tuple[Path, dict[str, Any]]] = [
    (WEB_DIR.parent / "reports", {"report": (2,), "N_": None})
]


def _key(message: str, context: str | None) -> str:
    return f"{context}{CONTEXT_SEP}{message}" if context else message


def N_(message: str) -> str:
    """Marks a string for the catalogs where it is defined; it is translated where it is shown."""
    return message


def catalog_path(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"


@lru_cache(maxsize=len(LOCALES))
def messages(locale: str) -> Mapping[str, str]:
    path = catalog_path(locale)
    if not path.exists():
        return {}
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    return {_key(str(m.id), m.context): str(m.string) for m in catalog if m.id and m.string}


class Translator:
    """Strings, dates and numbers in one locale."""

    def __init__(self, locale: str, tz: tzinfo) -> None:
        self.locale = locale if locale in LOCALES else DEFAULT_LOCALE
        self.tz = tz
        self._messages = messages(self.locale)
        self._babel = Locale.parse(self.locale)

    def gettext(self, message: str, **values: Any) -> str:
        text = self._messages.get(message) or message
        return text % values if values else text

    def pgettext(self, context: str, message: str, **values: Any) -> str:
        """``message`` in the sense ``context`` gives it (one English word, two meanings)."""
        text = self._messages.get(_key(message, context)) or message
        return text % values if values else text

    def when(self, value: datetime | None, form: str = "short") -> str:
        if value is None:
            return ""
        local = value.astimezone(self.tz)
        if form == "short":  # the same in both languages, and sortable by eye
            return local.strftime("%Y-%m-%d %H:%M")
        return dates.format_datetime(local, form, tzinfo=self.tz, locale=self._babel)

    def day(self, value: date | datetime | None, form: str = "medium") -> str:
        if value is None:
            return ""
        if isinstance(value, datetime):
            value = value.astimezone(self.tz).date()
        return dates.format_date(value, form, locale=self._babel)

    def number(self, value: float | int | None, digits: int = 0) -> str:
        if value is None:
            return ""
        return numbers.format_decimal(
            round(value, digits), locale=self._babel, decimal_quantization=False
        )

    def percent(self, value: float | None) -> str:
        """A ratio (0.2484) as a percentage (24.8%)."""
        if value is None:
            return ""
        return numbers.format_percent(value, "#,##0.0%", locale=self._babel)

    def money(self, value: float | None) -> str:
        """An amount in yen, with the locale's separators (¥1,234,000 / ￥1,234,000)."""
        if value is None:
            return ""
        return numbers.format_currency(value, "JPY", locale=self._babel)

    def relative(self, value: datetime | None, now: datetime) -> str:
        """ "in 3 hours" / "2 days ago", in the locale."""
        if value is None:
            return ""
        return dates.format_timedelta(
            value - now, add_direction=True, threshold=1.5, locale=self._babel
        )


def negotiate(accept_language: str | None) -> str | None:
    """The best of LOCALES for an Accept-Language header, or None."""
    if not accept_language:
        return None
    wanted = []
    for part in accept_language.split(","):
        tag, _, q = part.strip().partition(";q=")
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            weight = 0.0
        if tag:
            wanted.append((weight, tag.split("-")[0].lower()))
    for _weight, tag in sorted(wanted, key=lambda w: -w[0]):
        if tag in LOCALES:
            return tag
    return None


def extract_messages() -> dict[str, list[tuple[str, int]]]:
    """Every marked string of the web app's templates and Python, with where it is (a string with a
    context is keyed ``context\x04message``)."""
    found: dict[str, list[tuple[str, int]]] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
        WEB_DIR, METHOD_MAP, keywords=KEYWORDS, comment_tags=()
    ):
        if isinstance(message, tuple) and context:  # pgettext: (context, message)
            message = message[-1]
        if isinstance(message, str) and message:
            found.setdefault(_key(message, context), []).append((filename, lineno))
    for directory, keywords in OTHER_SOURCES:
        for filename, lineno, message, _comments, _context in extract_from_dir(
            directory, [("**.py", "python")], keywords=keywords, comment_tags=()
        ):
            if isinstance(message, str) and message:
                found.setdefault(message, []).append((f"../{directory.name}/{filename}", lineno))
    return found


def update_catalogs(locales: Iterable[str] = LOCALES) -> dict[str, int]:
    """Write every catalog with every marked string, keeping existing translations; returns, per
    locale, how many strings still lack a translation."""
    found = extract_messages()
    missing: dict[str, int] = {}
    for locale in locales:
        path = catalog_path(locale)
        old: dict[str, str] = {}
        if path.exists():
            with path.open("rb") as handle:
                old = {
                    _key(str(m.id), m.context): str(m.string)
                    for m in read_po(handle, locale=locale)
                    if m.id
                }
        catalog = Catalog(locale=locale, project="leadops", charset="utf-8")
        for key in sorted(found):
            context, _sep, message = key.rpartition(CONTEXT_SEP)
            catalog.add(message, old.get(key, ""), locations=found[key], context=context or None)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            write_po(
                handle,
                catalog,
                width=120,
                omit_header=False,
                include_previous=False,
                sort_output=True,
            )
        missing[locale] = sum(1 for m in found if not old.get(m))
    messages.cache_clear()
    return missing
