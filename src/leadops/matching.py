"""The keys people are matched on: a phone (E.164) and a person's name, alone or with their
company. Pure functions of what was typed; the text as typed is kept for display.
"""

from __future__ import annotations

import functools
import re

import phonenumbers

from leadops.normalize import nfkc, normalize_company

#: Where a phone number without a country code is: Japan (03-1234-5678 is +81 3-1234-5678).
PHONE_REGION = "JP"
#: The longest matching key of a phone: E.164 (16 characters) and an extension.
PHONE_KEY_LENGTH = 40
# 内線 (extension) as Japanese lists write it; phonenumbers reads "ext.", "x" and "#" itself.
_EXTENSION_RE = re.compile(r"\s*(?:内線|内)\s*[:：]?\s*(?=\d)")
_PHONE_LABEL_RE = re.compile(r"^\s*(?:tel|phone|電話番号|電話|携帯)\s*[:：.]?\s*", re.IGNORECASE)


def normalize_phone(value: str, region: str = PHONE_REGION) -> str:
    """The key a phone number matches on: E.164 (``+81312345678``), with ``;ext=123`` for an
    extension. 03-1234-5678, +81 3 1234 5678, 0312345678, ０３－１２３４－５６７８ and
    ``03-1234-5678 内線123`` all work; of several numbers in one cell the first is taken.

    Raises ValueError when the text holds no number of a possible length.
    """
    key, problem = _phone_key(value, region)
    if problem is not None:
        raise ValueError(problem)
    return key


@functools.lru_cache(maxsize=1 << 17)
def _phone_key(value: str, region: str) -> tuple[str, str | None]:
    """The key, or why there is none: remembered, as an import reads each phone twice (once to
    find the file's rows of one lead, once to take them in)."""
    try:
        return _parse_phone(value, region), None
    except ValueError as exc:
        return "", str(exc)


def _parse_phone(value: str, region: str) -> str:
    text = _EXTENSION_RE.sub(" ext. ", _PHONE_LABEL_RE.sub("", nfkc(value)))
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        found = next(
            iter(
                phonenumbers.PhoneNumberMatcher(
                    text, region, leniency=phonenumbers.Leniency.POSSIBLE
                )
            ),
            None,
        )
        if found is None:
            raise ValueError(f"not a phone number: {value!r}") from None
        number = found.number
    if not phonenumbers.is_possible_number(number):
        raise ValueError(f"not a phone number: {value!r} (too short or too long)")
    key = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if number.extension:
        key += f";ext={number.extension}"
    if len(key) > PHONE_KEY_LENGTH:
        raise ValueError(f"not a phone number: {value!r} (its extension is too long)")
    return key


_NAME_SPLIT_RE = re.compile(r"[\s,、・･]+")
_CJK_RE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\u31f0-\u31ff]")


def has_japanese(text: str) -> bool:
    """Whether the text holds kana or kanji."""
    return _CJK_RE.search(text) is not None


@functools.lru_cache(maxsize=8192)
def person_key(*parts: str | None) -> str | None:
    """The key a person's name matches on, from its parts in 姓名 order (or one full name).

    NFKC and case folded, spaces (half- or full-width) and middle dots dropped: 山田 太郎, 山田太郎
    and 山田　太郎 are one. A name in Latin letters matches in either order (Taro Yamada, Yamada
    Taro, YAMADA Taro), since exports write both; a Japanese one keeps its order.
    """
    text = nfkc(" ".join(p for p in parts if p)).casefold()
    words = [w for w in _NAME_SPLIT_RE.split(text) if w]
    if not words:
        return None
    if has_japanese(text):
        return "".join(words)
    return " ".join(sorted(words))


#: The longest name key (a name and a company as long as their columns allow fit).
NAME_KEY_LENGTH = 720


def name_key(last: str | None, first: str | None, company: str | None) -> str | None:
    """The key of a person at a company (``person_key`` | ``normalize_company``), or None
    without a name or a company: 山田 太郎 at 株式会社サンプル is ``山田太郎|サンプル``."""
    person = person_key(last, first)
    if person is None or not company or not company.strip():
        return None
    key = f"{person}|{normalize_company(company)}"
    return key if len(key) <= NAME_KEY_LENGTH else None
