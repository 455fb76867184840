from __future__ import annotations

import csv

import pytest

from leadops.ingest.prefectures import KINKI, PREFECTURES, find_prefecture, region_of
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
