from __future__ import annotations

import csv

import pytest

from leadops.ingest.prefectures import (
    CAPITALS,
    DESIGNATED_CITIES,
    KINKI,
    PREFECTURES,
    find_prefecture,
    prefecture_in_address,
    region_of,
)
from tests.conftest import SHARED_DATA, requires_shared_data


@requires_shared_data()
def test_every_prefecture_is_found_by_code_kanji_and_romaji() -> None:
    with (SHARED_DATA / "jp-prefectures" / "jp_prefectures.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 47
    for row in rows:
        code = int(row["jis_code"])
        for form in (
            row["jis_code"],
            str(code),
            row["name"],
            row["name_e"],
            row["name_r"],
            row["name_e"].upper(),
        ):
            found = find_prefecture(form)
            assert found is not None, form
            assert found.code == code, form
            assert found.name == row["name"]


@pytest.mark.parametrize(
    "form",
    [
        "大阪府",
        "大阪",
        "Osaka",
        "osaka-fu",
        "Ōsaka",
        "OSAKA PREFECTURE",
        "27",
        "JP-27",
        "２７",
        "大阪府大阪市北区梅田1-1",
    ],
)
def test_any_common_form_of_osaka(form: str) -> None:
    found = find_prefecture(form)
    assert found is not None
    assert found.name == "大阪府"


def test_tokyo_is_not_mistaken_for_kyoto() -> None:
    assert find_prefecture("東京")
    assert find_prefecture("東京").name == "東京都"  # type: ignore[union-attr]
    assert find_prefecture("京都").name == "京都府"  # type: ignore[union-attr]
    assert find_prefecture("kyoto").name == "京都府"  # type: ignore[union-attr]
    assert find_prefecture("Hokkaido").name == "北海道"  # type: ignore[union-attr]


def test_unknown_places_are_none() -> None:
    assert find_prefecture("Atlantis") is None
    assert find_prefecture("") is None
    assert find_prefecture("48") is None


def test_kinki_is_the_six_prefectures_of_2fu4ken_not_mie() -> None:
    kinki = {p.name for p in PREFECTURES if region_of(p.name) == "近畿"}
    assert kinki == set(KINKI) == {"大阪府", "京都府", "兵庫県", "奈良県", "和歌山県", "滋賀県"}
    assert region_of("三重県") != "近畿"
    assert region_of("東京都") == "関東"


def test_regions_are_configurable() -> None:
    assert region_of("三重県", {"三重県": "近畿"}) == "近畿"


@pytest.mark.parametrize(
    ("address", "prefecture"),
    [
        ("〒464-0084 愛知県名古屋市千種区千種1-1", "愛知県"),
        ("464-0084 愛知県名古屋市千種区", "愛知県"),
        ("〒４６４－００８４　愛知県名古屋市千種区", "愛知県"),
        ("〒530-0001大阪府大阪市北区梅田1-1", "大阪府"),
        ("日本、〒100-0005 東京都千代田区丸の内1-1", "東京都"),
        ("東京都千代田区丸の内1-1", "東京都"),
        ("北海道札幌市中央区北1条西2丁目", "北海道"),
        ("神奈川県横浜市西区", "神奈川県"),
        # A designated city, a capital named like its prefecture, a ward only Tokyo has.
        ("大阪市北区梅田1-1", "大阪府"),
        ("名古屋市中区栄", "愛知県"),
        ("堺市堺区", "大阪府"),
        ("静岡市葵区", "静岡県"),
        ("鹿児島市山下町", "鹿児島県"),
        ("世田谷区三軒茶屋", "東京都"),
        ("1-1 Umeda, Kita-ku, Osaka 530-0001, Japan", "大阪府"),
        ("2-1 Marunouchi, Chiyoda-ku, Tokyo 100-0005", "東京都"),
    ],
)
def test_the_prefecture_is_found_inside_a_full_address(address: str, prefecture: str) -> None:
    for found in (prefecture_in_address(address), find_prefecture(address)):
        assert found is not None, address
        assert found.name == prefecture


@pytest.mark.parametrize(
    "address",
    [
        "府中市宮西町1-1",  # in Tokyo and in Hiroshima
        "北区梅田1-1",  # 大阪市北区? 名古屋市北区? 東京都北区?
        "中央区本町",
        "〒100-0005",  # a postal code alone
        "1 Infinite Loop, Cupertino, CA 95014, USA",
    ],
)
def test_an_address_that_does_not_say_its_prefecture_gives_none(address: str) -> None:
    assert prefecture_in_address(address) is None


@pytest.mark.parametrize("region", ["CA", "California", "Bavaria", "Île-de-France", "海外"])
def test_regions_outside_japan_are_no_prefecture(region: str) -> None:
    assert find_prefecture(region) is None


def test_the_cities_that_imply_a_prefecture_are_the_20_designated_cities_and_28_capitals() -> None:
    assert len(DESIGNATED_CITIES) == 20
    assert len(CAPITALS) == 28
    assert all(find_prefecture(name) is not None for name in (*DESIGNATED_CITIES, *CAPITALS))
    assert {CAPITALS[f"{p.short}市"] for p in PREFECTURES if f"{p.short}市" in CAPITALS} == set(
        CAPITALS.values()
    )
