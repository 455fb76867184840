"""Who a lead is: leads without an e-mail, phones, addresses and owners, through the writer."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from leadops.ingest.activities import ingest_activities
from leadops.ingest.leads import LeadOutcome, LeadWriter, validate_lead
from leadops.models import Account, Activity, Lead, LeadEvent, Touch, User
from leadops.runtime import Runtime
from tests.factories import ingest_context, make_lead, make_user


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def write(
    session: Session, runtime: Runtime, rows: list[dict[str, Any]], *, create_users: bool = False
) -> list[LeadOutcome]:
    """One batch, as an import chunk or an API batch writes it."""
    ctx = ingest_context(session, runtime)
    items = []
    for row in rows:
        item, errors = validate_lead(row, ctx)
        assert item is not None, errors
        items.append(item)
    writer = LeadWriter(ctx, create_users=create_users)
    writer.preload(items)
    outcomes = [writer.upsert(item) for item in items]
    writer.finish()
    session.flush()
    return outcomes


def live_leads(session: Session) -> list[Lead]:
    return list(session.scalars(select(Lead).where(Lead.merged_into_id.is_(None))))


# --- leads without an e-mail -------------------------------------------------------------------


def test_a_phone_only_lead_is_taken_and_found_again_by_its_phone_in_any_spelling(
    session: Session, runtime: Runtime
) -> None:
    first = make_lead(session, runtime, email=None, phone="03-1234-5678")
    for spelling in ("+81 3 1234 5678", "0312345678", "０３－１２３４－５６７８", "(03)1234-5678"):
        again = make_lead(session, runtime, email=None, phone=spelling, title="部長")
        assert again.id == first.id, spelling
    assert count(session, Lead) == 1
    assert (first.phone, first.phone_key, first.title) == ("(03)1234-5678", "+81312345678", "部長")


def test_an_extension_is_part_of_the_phone_it_matches_on(
    session: Session, runtime: Runtime
) -> None:
    a = make_lead(session, runtime, email=None, phone="03-1234-5678 内線12")
    b = make_lead(session, runtime, email=None, phone="03-1234-5678 ext. 34")
    assert a.phone_key == "+81312345678;ext=12"
    assert a.id != b.id
    assert make_lead(session, runtime, email=None, phone="0312345678#12").id == a.id


def test_colleagues_sharing_the_main_number_are_two_leads(
    session: Session, runtime: Runtime
) -> None:
    rows = [
        {"phone": "03-1234-5678", "full_name": "山田 太郎", "company": "株式会社サンプル"},
        {"phone": "03-1234-5678", "full_name": "佐藤 花子", "company": "株式会社サンプル"},
    ]
    write(session, runtime, rows)
    write(session, runtime, [{"phone": "0312345678", "full_name": "山田　太郎", "title": "課長"}])
    names = sorted((lead.last_name, lead.title) for lead in live_leads(session))
    assert names == [("佐藤", None), ("山田", "課長")]


def test_a_name_with_a_company_is_enough_and_finds_the_lead_again(
    session: Session, runtime: Runtime
) -> None:
    write(session, runtime, [{"full_name": "山田 太郎", "company": "株式会社サンプル"}])
    write(session, runtime, [{"full_name": "山田太郎", "company": "ｻﾝﾌﾟﾙ㈱", "title": "部長"}])
    write(session, runtime, [{"full_name": "山田 太郎", "company": "テスト工業"}])
    leads = sorted(live_leads(session), key=lambda lead: lead.id)
    assert [(lead.company, lead.title) for lead in leads] == [
        ("ｻﾝﾌﾟﾙ㈱", "部長"),
        ("テスト工業", None),
    ]
    assert leads[0].name_key == "山田太郎|サンプル"


def test_a_name_with_a_company_never_takes_a_lead_another_phone_or_email_says_is_someone_else(
    session: Session, runtime: Runtime
) -> None:
    write(
        session,
        runtime,
        [{"full_name": "山田 太郎", "company": "サンプル", "phone": "03-1111-1111"}],
    )
    write(
        session,
        runtime,
        [{"full_name": "山田 太郎", "company": "サンプル", "phone": "06-2222-2222"}],
    )
    write(
        session, runtime, [{"full_name": "山田 太郎", "company": "サンプル", "email": "t@x.co.jp"}]
    )
    write(
        session, runtime, [{"full_name": "山田 太郎", "company": "サンプル", "email": "u@y.co.jp"}]
    )
    # The second is someone else (another phone); the third takes the first (nothing says
    # otherwise), the fourth the second (the first has another e-mail now).
    assert sorted((lead.email, lead.phone) for lead in live_leads(session)) == [
        ("t@x.co.jp", "03-1111-1111"),
        ("u@y.co.jp", "06-2222-2222"),
    ]


@pytest.mark.parametrize(
    ("row", "says"),
    [
        ({"source": "展示会"}, "it has none of these"),
        ({"full_name": "山田 太郎"}, "a name but no company"),
        ({"company": "株式会社サンプル"}, "a company but no one's name"),
        ({"phone": "TEL未取得", "company": "サンプル"}, "'TEL未取得' is not a phone number"),
    ],
)
def test_a_lead_nothing_identifies_is_refused_saying_what_would_do(
    session: Session, runtime: Runtime, row: dict[str, Any], says: str
) -> None:
    item, errors = validate_lead(row, ingest_context(session, runtime))
    assert item is None
    assert [e.path for e in errors] == ["email"]
    assert "an e-mail, a phone, an external_id, or a name with a company" in errors[0].message
    assert says in errors[0].message


def test_a_phone_that_is_not_one_is_kept_as_given_and_flagged(
    session: Session, runtime: Runtime
) -> None:
    [outcome] = write(session, runtime, [{"email": "a@x.co.jp", "phone": "1234"}])
    assert outcome.lead is not None
    assert (outcome.lead.phone, outcome.lead.phone_key) == ("1234", None)
    assert [f for f, _ in outcome.flags] == ["invalid_phone"]


# --- merging what was known apart ------------------------------------------------------------


def _history(session: Session, runtime: Runtime, lead: Lead, email: str | None) -> None:
    """An activity (by e-mail, when it has one) or a touch (when it has none)."""
    if email:
        ingest_activities(
            ingest_context(session, runtime),
            [{"email": email, "type": "content_download", "occurred_at": "2026-11-01"}],
        )
    else:
        session.add(Touch(lead_id=lead.id, at=runtime.clock.now(), channel="call", outcome="sent"))
        session.flush()


def test_a_lead_known_by_phone_and_one_known_by_email_are_merged_with_their_history(
    session: Session, runtime: Runtime
) -> None:
    by_phone = make_lead(
        session, runtime, email=None, phone="06-1234-5678", full_name="鈴木 一郎", company="X"
    )
    _history(session, runtime, by_phone, None)
    by_email = make_lead(session, runtime, email="ichiro@x.co.jp")
    _history(session, runtime, by_email, "ichiro@x.co.jp")
    [outcome] = write(session, runtime, [{"email": "ichiro@x.co.jp", "phone": "+81 6 1234 5678"}])
    assert outcome.lead is not None
    assert outcome.lead.id == by_email.id
    assert ("merged", f"lead {by_phone.id} merged into {by_email.id} (same person)") in (
        outcome.flags
    )
    session.refresh(by_phone)
    assert by_phone.merged_into_id == by_email.id
    winner = session.get(Lead, by_email.id)
    assert winner is not None
    assert (winner.last_name, winner.company, winner.phone_key) == ("鈴木", "X", "+81612345678")
    for model in (Activity, Touch):
        owners = session.scalars(select(model.lead_id)).all()  # type: ignore[attr-defined]
        assert owners == [by_email.id]
    kinds = session.scalars(select(LeadEvent.kind).where(LeadEvent.lead_id == by_email.id)).all()
    assert kinds.count("merged") == 1


def test_a_lead_known_by_phone_takes_the_email_it_is_given_later_and_the_reverse(
    session: Session, runtime: Runtime
) -> None:
    phone_first = make_lead(session, runtime, email=None, phone="03-1111-2222")
    again = make_lead(session, runtime, email="later@x.co.jp", phone="0311112222")
    assert again.id == phone_first.id
    assert again.email == "later@x.co.jp"
    email_first = make_lead(session, runtime, email="first@y.co.jp", phone="06-3333-4444")
    by_phone = make_lead(session, runtime, email=None, phone="+81 6 3333 4444", title="課長")
    assert by_phone.id == email_first.id
    assert by_phone.title == "課長"
    assert count(session, Lead) == 2


def test_a_phone_shared_by_someone_with_another_email_is_not_merged(
    session: Session, runtime: Runtime
) -> None:
    make_lead(session, runtime, email="a@x.co.jp", phone="03-1234-5678")
    lead = make_lead(session, runtime, email="b@x.co.jp", phone="03-1234-5678")
    assert lead.email == "b@x.co.jp"
    assert len(live_leads(session)) == 2


def test_a_phone_without_a_name_that_several_leads_share_is_flagged(
    session: Session, runtime: Runtime
) -> None:
    rows = [
        {"phone": "03-1234-5678", "full_name": "山田 太郎", "company": "サンプル"},
        {"phone": "03-1234-5678", "full_name": "佐藤 花子", "company": "サンプル"},
    ]
    first, _ = write(session, runtime, rows)
    [outcome] = write(session, runtime, [{"phone": "0312345678", "title": "代表"}])
    assert outcome.lead is not None
    assert first.lead is not None
    assert outcome.lead.id == first.lead.id  # the oldest, and said so
    assert [f for f, _ in outcome.flags] == ["ambiguous_phone"]


# --- addresses -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "prefecture", "region"),
    [
        ({"prefecture": "〒464-0084 愛知県名古屋市千種区"}, "愛知県", "中部"),
        ({"address": "〒４６４－００８４　愛知県名古屋市千種区"}, "愛知県", "中部"),
        ({"address": "東京都千代田区丸の内1-1"}, "東京都", "関東"),
        ({"address": "大阪市北区梅田1-1"}, "大阪府", "近畿"),
        ({"address": "千代田区丸の内1-1"}, "東京都", "関東"),
        ({"address": "1-1 Umeda, Kita-ku, Osaka 530-0001, Japan"}, "大阪府", "近畿"),
        ({"prefecture": "兵庫県", "address": "大阪市北区梅田1-1"}, "兵庫県", "近畿"),
    ],
)
def test_the_prefecture_is_read_off_an_address(
    session: Session,
    runtime: Runtime,
    fields: dict[str, str],
    prefecture: str,
    region: str,
) -> None:
    [outcome] = write(session, runtime, [{"email": "a@x.co.jp", **fields}])
    lead = outcome.lead
    assert lead is not None
    assert (lead.prefecture, lead.region, outcome.flags) == (prefecture, region, [])
    assert lead.address == fields.get("address")


@pytest.mark.parametrize(
    ("given", "flag"),
    [
        ("CA", "region_outside_japan"),
        ("Bavaria", "region_outside_japan"),
        ("海外", "unknown_prefecture"),
    ],
)
def test_a_region_outside_japan_is_kept_as_the_region_and_flagged(
    session: Session, runtime: Runtime, given: str, flag: str
) -> None:
    [outcome] = write(session, runtime, [{"email": "a@x.co.jp", "prefecture": given}])
    assert outcome.lead is not None
    assert (outcome.lead.prefecture, outcome.lead.region) == (None, given)
    assert [f for f, _ in outcome.flags] == [flag]


def test_an_address_that_names_no_prefecture_is_kept_and_flagged(
    session: Session, runtime: Runtime
) -> None:
    [outcome] = write(session, runtime, [{"email": "a@x.co.jp", "address": "府中市宮西町1-1"}])
    assert outcome.lead is not None
    assert (outcome.lead.address, outcome.lead.prefecture) == ("府中市宮西町1-1", None)
    assert [f for f, _ in outcome.flags] == ["no_prefecture"]


# --- owners ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user_name", "given"),
    [
        ("山田 太郎", "山田太郎"),
        ("山田 太郎", "山田　太郎"),
        ("山田太郎", "山田 太郎"),
        ("Taro Yamada", "Yamada Taro"),
        ("Taro Yamada", "ＹＡＭＡＤＡ　Ｔａｒｏ"),
        ("Yamada Taro", "taro yamada"),
    ],
)
def test_an_owner_is_found_by_display_name_in_any_spelling(
    session: Session, runtime: Runtime, user_name: str, given: str
) -> None:
    user = make_user(session, email="yamada@leadops.test", name=user_name)
    [outcome] = write(session, runtime, [{"email": "a@x.co.jp", "owner": given}])
    assert outcome.lead is not None
    assert outcome.flags == []
    session.refresh(outcome.lead)
    assert outcome.lead.owner_id == user.id


def test_an_owner_is_found_by_email_before_a_name(session: Session, runtime: Runtime) -> None:
    make_user(session, email="other@leadops.test", name="yamada@leadops.test")
    user = make_user(session, email="yamada@leadops.test", name="山田 太郎")
    [outcome] = write(session, runtime, [{"email": "a@x.co.jp", "owner": "Yamada@LeadOps.test"}])
    assert outcome.lead is not None
    session.refresh(outcome.lead)
    assert outcome.lead.owner_id == user.id


def test_an_unmatched_owner_is_kept_and_flagged(session: Session, runtime: Runtime) -> None:
    make_user(session, email="a@leadops.test", name="山田 太郎")
    make_user(session, email="b@leadops.test", name="山田太郎")
    rows = [
        {"email": "a@x.co.jp", "owner": "田中 三郎"},
        {"email": "b@x.co.jp", "owner": "山田　太郎"},
    ]
    unknown, ambiguous = write(session, runtime, rows)
    assert [f for f, _ in unknown.flags] == ["unknown_owner"]
    assert [f for f, _ in ambiguous.flags] == ["ambiguous_owner"]
    for outcome, given in ((unknown, "田中 三郎"), (ambiguous, "山田　太郎")):
        assert outcome.lead is not None
        session.refresh(outcome.lead)
        assert (outcome.lead.owner_id, outcome.lead.custom) == (None, {"unmatched_owner": given})


def test_owners_become_inactive_users_when_asked_once_per_person(
    session: Session, runtime: Runtime
) -> None:
    rows = [
        {"email": "a@x.co.jp", "owner": "田中 三郎"},
        {"email": "b@x.co.jp", "owner": "田中三郎"},
        {"email": "c@x.co.jp", "owner": "new.rep@leadops.test"},
    ]
    outcomes = write(session, runtime, rows, create_users=True)
    assert [[f for f, _ in o.flags] for o in outcomes] == [["created_owner"], [], ["created_owner"]]
    users = session.scalars(select(User).order_by(User.id)).all()
    assert [(u.name, u.email, u.active) for u in users] == [
        ("田中 三郎", None, False),
        ("new.rep@leadops.test", "new.rep@leadops.test", False),
    ]
    leads = {o.lead.email: o.lead for o in outcomes if o.lead is not None}
    for lead in leads.values():
        session.refresh(lead)
    assert leads["a@x.co.jp"].owner_id == leads["b@x.co.jp"].owner_id == users[0].id
    write(session, runtime, rows, create_users=True)
    assert count(session, User) == 2


# --- one lead given twice in a batch ------------------------------------------------------------


def test_the_last_row_of_a_lead_wins_and_a_second_batch_changes_nothing(
    session: Session, runtime: Runtime
) -> None:
    make_user(session, email="a@leadops.test", name="山田 太郎")
    sato = make_user(session, email="b@leadops.test", name="Hanako Sato")
    rows = [
        {"email": "t@x.co.jp", "title": "課長", "status": "customer", "owner": "山田 太郎"},
        {"email": "t@x.co.jp", "company": "X", "status": "partner", "owner": "sato hanako"},
        {"phone": "052-111-2222", "full_name": "高橋 次郎", "company": "Y", "status": "lead"},
        {"phone": "052-111-2222", "full_name": "高橋 次郎", "status": "disqualified_marketing"}
        | {"status_reason": "競合"},
    ]
    first = write(session, runtime, rows)
    assert [(o.created, o.changed) for o in first] == [(False, False), (True, True)] * 2
    assert [f for f, _ in first[0].flags] == ["same_lead"]
    taro = first[1].lead
    assert taro is not None
    session.refresh(taro)
    assert (taro.title, taro.company, taro.status, taro.owner_id) == (
        "課長",
        "X",
        "partner",
        sato.id,
    )
    events, leads, accounts = (
        count(session, LeadEvent),
        count(session, Lead),
        count(session, Account),
    )
    second = write(session, runtime, rows)
    assert [(o.changed, o.refused) for o in second] == [(False, None)] * 4
    assert (count(session, LeadEvent), count(session, Lead), count(session, Account)) == (
        events,
        leads,
        accounts,
    )
    kinds = session.scalars(select(LeadEvent.kind).where(LeadEvent.lead_id == taro.id)).all()
    assert sorted(kinds) == ["created", "owner", "status"]


def test_when_the_last_row_is_refused_the_earlier_rows_are_kept_without_their_status(
    session: Session, runtime: Runtime
) -> None:
    rows = [
        {"email": "t@x.co.jp", "title": "課長", "status": "lead"},
        {"email": "t@x.co.jp", "status": "recycled"},  # needs a reason
    ]
    first = write(session, runtime, rows)
    assert first[1].refused is not None
    lead = session.scalars(select(Lead)).one()
    assert (lead.title, lead.status) == ("課長", "new")
    events = count(session, LeadEvent)
    again = write(session, runtime, rows)
    assert again[1].refused is not None
    assert count(session, LeadEvent) == events
