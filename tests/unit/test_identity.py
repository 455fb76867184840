"""Which inputs of one batch are one lead, and how they are taken as one."""

from __future__ import annotations

from datetime import UTC, datetime

from leadops.ingest.identity import Keys, contradicts, same_lead_groups
from leadops.ingest.lead_input import LeadInput, fold


def keys(**fields: str) -> Keys:
    return Keys.of(LeadInput(**fields))  # type: ignore[arg-type]


def test_inputs_sharing_an_email_a_source_id_or_a_phone_with_the_same_name_are_one_lead() -> None:
    batch = [
        keys(email="a@x.co.jp"),
        keys(phone="03-1234-5678", last_name="山田", first_name="太郎"),
        keys(email="a@x.co.jp", title="課長"),
        keys(crm_source="sf", crm_id="1"),
        keys(phone="+81 3 1234 5678", last_name="山田太郎"),
        keys(crm_source="sf", crm_id="1"),
        keys(phone="0312345678", last_name="佐藤", first_name="花子"),  # the same main number
        keys(last_name="鈴木", first_name="一郎", company="株式会社サンプル"),
        keys(last_name="鈴木 一郎", company="ｻﾝﾌﾟﾙ㈱"),
    ]
    assert same_lead_groups(batch) == [[0, 2], [1, 4], [3, 5], [7, 8]]


def test_a_name_with_company_does_not_join_inputs_whose_emails_differ() -> None:
    batch = [
        keys(email="a@x.co.jp", last_name="山田", company="X"),
        keys(email="b@x.co.jp", last_name="山田", company="X"),
        keys(last_name="山田", company="X", phone="03-1111-1111"),
        keys(last_name="山田", company="X", phone="06-2222-2222"),
    ]
    assert same_lead_groups(batch) == [[0, 2]]


def test_what_says_two_are_different_people() -> None:
    taro = keys(email="t@x.co.jp", last_name="山田", first_name="太郎", phone="03-1111-1111")
    assert contradicts(taro, keys(email="u@x.co.jp"))
    assert contradicts(taro, keys(last_name="佐藤", first_name="花子"))
    assert not contradicts(taro, keys(last_name="山田太郎", phone="06-2222-2222"))
    assert contradicts(taro, keys(phone="06-2222-2222"), phones=True)
    assert contradicts(keys(crm_source="sf", crm_id="1"), keys(crm_source="sf", crm_id="2"))
    assert not contradicts(keys(crm_source="sf", crm_id="1"), keys(crm_source="hs", crm_id="2"))


def test_folded_inputs_take_each_field_from_the_last_that_gives_it() -> None:
    early, late = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)
    first = LeadInput(
        email="a@x.co.jp",
        title="課長",
        phone="03-1111-1111",
        status="recycled",
        status_reason="予算なし",
        prefecture="東京都",
        created_at=late,
        custom={"a": 1, "b": 1},
        flags=[("invalid_phone", "…")],
    )
    second = LeadInput(email="a@x.co.jp", title="部長", region="CA", created_at=early)
    third = LeadInput(email="a@x.co.jp", status="lead", custom={"b": 2})
    out = fold([first, second, third])
    assert (out.title, out.phone, out.phone_key) == ("部長", "03-1111-1111", "+81311111111")
    assert (out.status, out.status_reason) == ("lead", None)
    assert (out.prefecture, out.region) == (None, "CA")
    assert (out.created_at, out.custom, out.flags) == (early, {"a": 1, "b": 2}, [])
    assert first.title == "課長"  # the inputs themselves are left as they are
