"""The keys people are matched on: phones and names."""

from __future__ import annotations

import pytest

from leadops.matching import name_key, normalize_phone, person_key


@pytest.mark.parametrize(
    "raw",
    [
        "03-1234-5678",
        "+81 3 1234 5678",
        "0312345678",
        "０３－１２３４－５６７８",
        "(03) 1234-5678",
        "TEL: 03-1234-5678",
        "電話番号：03-1234-5678",
        "03-1234-5678 / 090-1111-2222",
    ],
)
def test_phones_are_normalized_to_e164_for_matching(raw: str) -> None:
    assert normalize_phone(raw) == "+81312345678"


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("03-1234-5678 内線123", "+81312345678;ext=123"),
        ("03-1234-5678 ext. 12", "+81312345678;ext=12"),
        ("03-1234-5678#12", "+81312345678;ext=12"),
        ("090-1234-5678", "+819012345678"),
        ("0120-123-456", "+81120123456"),
        ("+1 (415) 555-0100", "+14155550100"),
    ],
)
def test_extensions_mobiles_and_foreign_numbers_keep_what_tells_them_apart(
    raw: str, key: str
) -> None:
    assert normalize_phone(raw) == key


@pytest.mark.parametrize("raw", ["1234", "TEL未取得", "-", "１２３"])
def test_what_is_no_phone_number_is_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="not a phone number"):
        normalize_phone(raw)


@pytest.mark.parametrize(
    "parts",
    [
        ("山田", "太郎"),
        ("山田 太郎",),
        ("山田　太郎",),
        ("山田太郎",),
        ("ﾔﾏﾀﾞ", "ﾀﾛｳ"),
    ],
)
def test_a_japanese_name_is_one_key_with_or_without_spaces(parts: tuple[str, ...]) -> None:
    assert person_key(*parts) in {"山田太郎", "ヤマダタロウ"}
    assert person_key(*parts) == person_key("".join(parts).replace(" ", "").replace("\u3000", ""))


def test_a_latin_name_matches_in_either_order_a_japanese_one_only_in_its_own() -> None:
    assert person_key("Taro Yamada") == person_key("Yamada", "Taro") == "taro yamada"
    assert person_key("ＹＡＭＡＤＡ　Ｔａｒｏ") == "taro yamada"
    assert person_key("太郎 山田") != person_key("山田 太郎")
    assert person_key(None, " ") is None


def test_a_name_key_needs_a_name_and_a_company() -> None:
    assert name_key("山田", "太郎", "株式会社サンプル") == name_key("山田太郎", None, "ｻﾝﾌﾟﾙ㈱")
    assert name_key("山田", "太郎", "株式会社サンプル") == "山田太郎|サンプル"
    assert name_key("山田", "太郎", None) is None
    assert name_key(None, None, "サンプル") is None
