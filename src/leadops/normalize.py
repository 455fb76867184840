"""Pure normalization of what people type: e-mails, company names, free text, dates.

Matching uses the normalized form (NFKC, case folded); the original is kept for display.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from datetime import UTC, date, datetime, time, timedelta, tzinfo

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

FREE_MAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "yahoo.co.jp",
        "ymail.ne.jp",
        "yahoo.com",
        "yahoo.ne.jp",
        "outlook.jp",
        "outlook.com",
        "hotmail.com",
        "hotmail.co.jp",
        "live.jp",
        "live.com",
        "msn.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "aol.com",
        "docomo.ne.jp",
        "ezweb.ne.jp",
        "au.com",
        "softbank.ne.jp",
        "i.softbank.jp",
        "nifty.com",
        "biglobe.ne.jp",
        "ocn.ne.jp",
        "so-net.ne.jp",
        "excite.co.jp",
        "mail.com",
        "gmx.com",
        "gmx.net",
        "proton.me",
        "protonmail.com",
        "yandex.com",
        "qq.com",
        "163.com",
        "zoho.com",
    }
)

# Legal forms stripped from company names, longest first so "Co., Ltd." goes before "Ltd.".
_LEGAL_FORMS = sorted(
    [
        "株式会社",
        "(株)",
        "有限会社",
        "(有)",
        "合同会社",
        "(同)",
        "合資会社",
        "(資)",
        "合名会社",
        "(名)",
        "一般社団法人",
        "(一社)",
        "一般財団法人",
        "(一財)",
        "co., ltd.",
        "co.,ltd.",
        "co. ltd.",
        "co.ltd.",
        "co., ltd",
        "co.,ltd",
        "company limited",
        "corporation",
        "incorporated",
        "limited",
        "inc.",
        "inc",
        "corp.",
        "corp",
        "ltd.",
        "ltd",
        "llc",
        "l.l.c.",
        "k.k.",
        "g.k.",
        "gmbh",
        "co.",
        "plc",
    ],
    key=len,
    reverse=True,
)
_NAME_PUNCT_RE = re.compile(r"[\s\.,・･\-‐‑–—_'\"’“”()（）\[\]「」『』/]+")


def nfkc(text: str) -> str:
    """Full-width to half-width and compatibility forms folded (ｱ→ア, ＡＢＣ→ABC, ㈱→(株))."""
    return unicodedata.normalize("NFKC", text)


#: The largest whole number a 64-bit column holds (ids, offsets, counts).
MAX_INT64 = 2**63 - 1
#: Years a date may fall in, unless a caller says otherwise: older or later ones are typing
#: mistakes (0001-01-01, 9999-12-31), and times near the ends of the calendar cannot be moved
#: between time zones.
YEARS = (1900, 2100)

_UNSTORABLE_RE = re.compile(r"[\x00\ud800-\udfff]")


def text_problem(text: str, max_length: int | None = None) -> str | None:
    """Why ``text`` cannot be kept as it is (a NUL, a lone surrogate, too long), or None.

    Neither a NUL nor a lone surrogate is a character anyone types: PostgreSQL refuses the first,
    and neither database can encode the second.
    """
    found = _UNSTORABLE_RE.search(text)
    if found is not None:
        char = found.group()
        if char == "\x00":
            return f"contains a NUL character (U+0000) at position {found.start() + 1}"
        return (
            f"contains a lone surrogate (U+{ord(char):04X}) at position {found.start() + 1}, "
            "which is not a character"
        )
    if max_length is not None and len(text) > max_length:
        return f"is {len(text)} characters long; the most is {max_length}"
    return None


def check_text(text: str, max_length: int | None = None) -> str:
    """``text`` unchanged, or ValueError saying why it cannot be kept (see :func:`text_problem`)."""
    problem = text_problem(text, max_length)
    if problem is not None:
        raise ValueError(problem)
    return text


def storable(value: object) -> object:
    """For validators: text as :func:`check_text` lets it through, anything else unchanged."""
    return check_text(value) if isinstance(value, str) else value


def json_problem(value: object, path: str = "") -> tuple[str, str] | None:
    """The first key or string inside a JSON value that cannot be kept: (its path under ``path``,
    why), or None. Paths read like ``custom.topics[2]``."""
    if isinstance(value, str):
        problem = text_problem(value)
        return None if problem is None else (path, problem)
    if isinstance(value, dict):
        for key, item in value.items():
            name = str(key)
            if isinstance(item, str) and _UNSTORABLE_RE.search(name + item) is None:
                continue  # the usual case: a plain key with a plain text
            where = f"{path}.{scrub_text(name)}" if path else scrub_text(name)
            problem = text_problem(name)
            found = (where, f"its key {problem}") if problem else json_problem(item, where)
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = json_problem(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None


def scrub_text(text: str) -> str:
    """``text`` with every NUL and lone surrogate replaced by U+FFFD."""
    return _UNSTORABLE_RE.sub("\N{REPLACEMENT CHARACTER}", text)


def scrubbed(value: object) -> object:
    """A JSON value with every NUL and lone surrogate replaced by U+FFFD, in keys and strings: what
    was refused can still be kept (a rejected row) and shown (an error message)."""
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, dict):
        return {scrub_text(str(k)): scrubbed(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrubbed(item) for item in value]
    return value


def clean_text(value: object) -> str | None:
    """Trim a cell; empty becomes None. The text itself is kept as the user wrote it."""
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def normalize_email(value: str) -> str:
    """NFKC, trimmed, lower-cased. Raises ValueError if it is not an address."""
    problem = text_problem(value)
    if problem is not None:
        raise ValueError(f"not an e-mail address: it {problem}")
    email = nfkc(value).strip().lower()
    if email.startswith("mailto:"):
        email = email.removeprefix("mailto:")
    if not EMAIL_RE.match(email) or ".." in email:
        raise ValueError(f"not an e-mail address: {value!r}")
    return email


def email_domain(email: str) -> str:
    return email.rsplit("@", 1)[1]


def is_free_mail(email_or_domain: str) -> bool:
    domain = email_or_domain.rsplit("@", 1)[-1].lower()
    return domain in FREE_MAIL_DOMAINS


def normalize_domain(value: str) -> str:
    domain = nfkc(value).strip().lower()
    domain = re.sub(r"^https?://", "", domain).split("/", 1)[0]
    return domain.removeprefix("www.")


@functools.lru_cache(maxsize=8192)
def normalize_company(name: str) -> str:
    """The key company names match on: NFKC, legal forms stripped, case and punctuation folded.

    >>> normalize_company("株式会社サンプル") == normalize_company("ｻﾝﾌﾟﾙ㈱") == "サンプル"
    True
    """
    text = nfkc(name).strip().lower()
    text = text.replace("（", "(").replace("）", ")")
    changed = True
    while changed:
        changed = False
        for form in _LEGAL_FORMS:
            stripped = text.strip(" ,")
            if stripped.startswith(form) and len(stripped) > len(form):
                text, changed = stripped[len(form) :], True
            elif stripped.endswith(form) and len(stripped) > len(form):
                text, changed = stripped[: -len(form)], True
    text = _NAME_PUNCT_RE.sub("", text)
    return text or nfkc(name).strip().lower()


# --- dates -------------------------------------------------------------------------------------

_ERAS = {"令和": 2018, "平成": 1988, "昭和": 1925, "r": 2018, "h": 1988, "s": 1925}
_JA_DATE_RE = re.compile(
    r"^(?:(?P<era>令和|平成|昭和)(?P<ey>元|\d{1,2})|(?P<y>\d{4}))年\s*(?P<m>\d{1,2})月\s*(?P<d>\d{1,2})日"
    r"(?:\s*[(（][^)）]*[)）])?"
    r"(?:\s*(?P<H>\d{1,2})(?:時|:)(?:\s*(?P<M>\d{1,2})分?)?(?:\s*(?P<S>\d{1,2})秒?)?)?$"
)
_ERA_SHORT_RE = re.compile(
    r"^(?P<era>[RHSrhs])(?P<ey>\d{1,2})[./](?P<m>\d{1,2})[./](?P<d>\d{1,2})$"
)
_NUMERIC_RE = re.compile(
    r"^(?P<a>\d{1,4})[/.\-](?P<b>\d{1,2})[/.\-](?P<c>\d{1,4})"
    r"(?:[ T]+(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.\d+)?)?\s*(?P<ampm>[ap]\.?m\.?)?)?$",
    re.IGNORECASE,
)
_TEXT_FORMATS = (
    "%b %d, %Y",
    "%d %b %Y",
    "%B %d, %Y",
    "%d %B %Y",
    "%b %d, %Y %H:%M",
    "%d %b %Y %H:%M",
)
DATE_HINT = "expected e.g. 2024-04-01, 2024/04/01 10:00, 2024年4月1日 or 令和6年4月1日"


def _build(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second)  # noqa: DTZ001 - made aware by the caller


def _parse_naive(text: str, date_order: str) -> datetime | None:
    """A naive datetime, or None if the text has a time zone (ISO) handled by the caller."""
    m = _JA_DATE_RE.match(text)
    if m:
        if m["era"]:
            era_year = 1 if m["ey"] == "元" else int(m["ey"])
            year = _ERAS[m["era"]] + era_year
        else:
            year = int(m["y"])
        return _build(
            year, int(m["m"]), int(m["d"]), int(m["H"] or 0), int(m["M"] or 0), int(m["S"] or 0)
        )
    m = _ERA_SHORT_RE.match(text)
    if m:
        return _build(_ERAS[m["era"].lower()] + int(m["ey"]), int(m["m"]), int(m["d"]))
    m = _NUMERIC_RE.match(text)
    if m:
        a, b, c = int(m["a"]), int(m["b"]), int(m["c"])
        hour, minute, second = int(m["H"] or 0), int(m["M"] or 0), int(m["S"] or 0)
        if m["ampm"]:
            pm = m["ampm"].lower().startswith("p")
            hour = (hour % 12) + (12 if pm else 0)
        if len(m["a"]) == 4:
            return _build(a, b, c, hour, minute, second)
        if len(m["c"]) != 4:
            raise ValueError("a two-digit year is ambiguous")
        first, second_order = ((a, b), (b, a)) if date_order != "dmy" else ((b, a), (a, b))
        for month, day in (first, second_order):
            try:
                return _build(c, month, day, hour, minute, second)
            except ValueError:
                continue
        raise ValueError("no such day")
    for fmt in _TEXT_FORMATS:
        try:
            return datetime.strptime(text, fmt)  # noqa: DTZ007 - made aware by the caller
        except ValueError:
            continue
    return None


def parse_datetime(
    value: object, *, tz: tzinfo, date_order: str = "mdy", years: tuple[int, int] = YEARS
) -> datetime:
    """Read a date or time as people and exports write it; naive times are in ``tz``. UTC out.

    Raises ValueError naming what was expected, or the value and the ``years`` it must fall in.
    """
    if isinstance(value, datetime):
        return in_utc(value, tz, value, years)
    if isinstance(value, date):
        return in_utc(datetime.combine(value, time()), tz, value, years)
    if value is None:
        raise ValueError("no date given")
    text = nfkc(str(value)).strip()
    if not text:
        raise ValueError("no date given")
    iso = text.replace("Z", "+00:00") if text.endswith("Z") else text
    try:
        parsed = datetime.fromisoformat(iso)
    except ValueError:
        parsed = None
    if parsed is not None and "-" in text[:10]:
        return in_utc(parsed, tz, value, years)
    try:
        naive = _parse_naive(text, date_order)
    except ValueError as exc:
        raise ValueError(f"not a valid date: {value!r} ({exc}); {DATE_HINT}") from None
    if naive is None:
        raise ValueError(f"not a date: {value!r}; {DATE_HINT}")
    return in_utc(naive, tz, value, years)


def in_utc(at: datetime, tz: tzinfo, given: object, years: tuple[int, int] = YEARS) -> datetime:
    """``at`` (naive: in ``tz``) in UTC, once its year is known to fall within ``years``;
    ValueError naming ``given`` (what the user wrote) and the range otherwise."""
    first, last = years
    if not first <= at.year <= last:
        raise ValueError(f"{given!r} is out of range: dates must fall in the years {first}-{last}")
    return (at if at.tzinfo else at.replace(tzinfo=tz)).astimezone(UTC)


def check_not_future(at: datetime, now: datetime, tolerance: timedelta) -> None:
    if at > now + tolerance:
        hours = tolerance.total_seconds() / 3600
        raise ValueError(
            f"{at.isoformat()} is in the future (more than {hours:g} h after now, "
            f"{now.isoformat()})"
        )


def parse_int(value: object, *, most: int = MAX_INT64) -> int | None:
    """'1,200', '１２００', '1200.0' and 1200 are all 1200; blank is None.

    Raises ValueError when it is not a whole number, or when it is beyond ``most`` either way
    (by default what a 64-bit column holds).
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError(f"not a whole number: {value!r}")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"not a whole number: {value!r}")
        number = int(value)
    else:
        number = _whole_number(value, most)
    if abs(number) > most:
        raise _out_of_range(value, most)
    return number


def _whole_number(value: object, most: int) -> int:
    text = nfkc(str(value)).strip().replace(",", "").replace("名", "").replace("人", "")
    if re.fullmatch(r"[+-]?\d+", text, flags=re.ASCII):
        if len(text.lstrip("+-0")) > len(str(most)):
            raise _out_of_range(value, most)
        return int(text)
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f"not a number: {value!r}") from None
    if not number.is_integer():
        raise ValueError(f"not a whole number: {value!r}")
    return int(number)


def _out_of_range(value: object, most: int) -> ValueError:
    if isinstance(value, int) and value.bit_length() > 4000:
        shown = "a number this long"  # str() refuses ints this large
    else:
        text = str(value)
        shown = text if len(text) <= 40 else f"{text[:40]}…"
    return ValueError(f"{shown} is out of range: the most is {most:,}")


def parse_float(value: object) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    text = nfkc(str(value)).strip().replace(",", "").lstrip("¥$€")
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"not a number: {value!r}") from None
