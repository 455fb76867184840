"""The search box finds a lead by what a person types: the name as displayed, kana, the company in
any common form, the phone in any format; ``%`` and ``_`` are only themselves."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadops.leads import LeadFilter, list_leads
from leadops.models import Lead, LeadSearchKey
from leadops.runtime import Runtime
from leadops.search import refresh_search_keys, search_leads
from tests.factories import make_lead


@pytest.fixture
def leads(session: Session, runtime: Runtime) -> dict[str, int]:
    made = {
        "ogawa": make_lead(
            session,
            runtime,
            email="ogawa@star-denki.co.jp",
            last_name="小川",
            first_name="聡",
            company="（株）スター電機",
            phone="03-1234-5678",
            custom={"苗字(ふりがな)": "おがわ", "名前(ふりがな)": "さとし"},
        ),
        "suzuki": make_lead(
            session,
            runtime,
            email="t.suzuki@acme.example",
            last_name="SUZUKI",
            first_name="Taro",
            company="Acme Inc.",
            phone="+81 6-6123-4567",
        ),
        "percent": make_lead(
            session, runtime, email="p@100pct.example", last_name="%off", company="100%商事"
        ),
        "other": make_lead(
            session, runtime, email="yamada@sample.example", last_name="山田", company="サンプル"
        ),
    }
    session.commit()
    return {name: lead.id for name, lead in made.items()}


def found(session: Session, query: str) -> list[int]:
    return [hit.lead.id for hit in search_leads(session, query)]


@pytest.mark.parametrize(
    "query",
    [
        "小川 聡",  # the name as displayed
        "小川聡",  # without the space
        "小川　聡",  # a full-width space
        "小川",
        "オガワ",  # kana: katakana
        "おがわ さとし",  # hiragana, with a space
        "ｵｶﾞﾜ",  # half-width katakana
        "スター電機",
        "ｽﾀｰ電機",  # half-width kana
        "（株）スター電機",
        "(株)スター電機",
        "㈱スター電機",
        "株式会社スター電機",
        "スター電機株式会社",
        "すたー",  # the company in hiragana
        "03-1234-5678",
        "0312345678",
        "+81 3 1234 5678",
        "+81-3-1234-5678",
        "０３－１２３４－５６７８",  # full-width digits
        "03-1234",  # the start of a number
        "OGAWA@STAR-DENKI.CO.JP",
        "ogawa@",
    ],
)
def test_a_lead_is_found_by_any_common_form_of_its_name_company_or_phone(
    session: Session, leads: dict[str, int], query: str
) -> None:
    assert found(session, query)[:1] == [leads["ogawa"]]
    assert leads["other"] not in found(session, query)


@pytest.mark.parametrize(
    "query", ["ＳＵＺＵＫＩ", "suzuki", "Suzuki Taro", "taro suzuki", "06-6123-4567", "ａｃｍｅ"]
)
def test_latin_names_in_full_width_or_either_order_and_other_areas_are_found(
    session: Session, leads: dict[str, int], query: str
) -> None:
    assert found(session, query) == [leads["suzuki"]]


def test_percent_and_underscore_are_literal_not_patterns(
    session: Session, leads: dict[str, int]
) -> None:
    assert found(session, "%") == [leads["percent"]]
    assert found(session, "100%") == [leads["percent"]]
    assert found(session, "_") == []
    assert found(session, "%%") == []
    flt = LeadFilter(q="%")
    total, page = list_leads(session, flt)
    assert total == 1
    assert [item["id"] for item in page] == [leads["percent"]]


def test_a_whole_match_ranks_before_a_prefix(session: Session, runtime: Runtime) -> None:
    longer = make_lead(session, runtime, email="a@x.example", last_name="小川原", first_name="一")
    exact = make_lead(session, runtime, email="b@x.example", last_name="小川", first_name="")
    session.commit()
    assert found(session, "小川")[:2] == [exact.id, longer.id]


def test_the_lead_list_search_uses_the_same_keys(session: Session, leads: dict[str, int]) -> None:
    for query in ("小川 聡", "ｽﾀｰ電機", "+81 3 1234 5678"):
        total, page = list_leads(session, LeadFilter(q=query))
        assert (total, page[0]["id"]) == (1, leads["ogawa"])


def test_a_changed_lead_is_found_by_its_new_values_only(
    session: Session, runtime: Runtime, leads: dict[str, int]
) -> None:
    make_lead(session, runtime, email="ogawa@star-denki.co.jp", phone="045-111-2222")
    session.commit()
    assert found(session, "0451112222") == [leads["ogawa"]]
    assert found(session, "03-1234-5678") == []


def test_refreshing_keys_twice_writes_the_same_keys(
    session: Session, leads: dict[str, int]
) -> None:
    def keys() -> list[tuple[str, str]]:
        stmt = select(LeadSearchKey.kind, LeadSearchKey.key).where(
            LeadSearchKey.lead_id == leads["ogawa"]
        )
        return sorted(tuple(r) for r in session.execute(stmt))

    before = keys()
    refresh_search_keys(session, [leads["ogawa"], leads["ogawa"]])
    assert keys() == before
    assert ("phone", "0312345678") in before
    assert session.get(Lead, leads["ogawa"]) is not None
