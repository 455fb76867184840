"""Correcting a lead's details: each field read as an import reads it, refused values named, every
change one event through the door, within the role table."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadops.errors import Forbidden
from leadops.ingest.edit import EditRefused, edit_lead, read_kana
from leadops.models import Lead, LeadEvent, User
from leadops.rules.service import active_rules
from leadops.runtime import Runtime
from tests.webapp import Org, build_org, lead_of


@pytest.fixture
def org(session: Session, runtime: Runtime) -> Org:
    return build_org(session, runtime, leads=2)


def _edit(session: Session, runtime: Runtime, org: Org, who: str, lead_id: int, **given: str):  # type: ignore[no-untyped-def]
    now = runtime.clock.now()
    user = session.get_one(User, org.users[who])
    result = edit_lead(session, active_rules(session, now), lead_id, given, user=user, now=now)
    session.commit()
    return result


def _field_events(
    session: Session, lead_id: int
) -> list[tuple[str | None, str | None, str | None, str | None]]:
    session.expire_all()
    rows = session.execute(
        select(LeadEvent.reason, LeadEvent.from_value, LeadEvent.to_value, LeadEvent.actor_ref)
        .where(LeadEvent.lead_id == lead_id, LeadEvent.kind == "field")
        .order_by(LeadEvent.id)
    )
    return [tuple(r) for r in rows]  # type: ignore[misc]


def test_a_rep_corrects_their_lead_and_each_change_is_an_event(
    session: Session, runtime: Runtime, org: Org
) -> None:
    lead_id = org.leads[0]
    result = _edit(
        session,
        runtime,
        org,
        "member",
        lead_id,
        last_name="山田",
        last_name_kana="やまだ",
        phone="０３－１２３４－５６７８",
        prefecture="osaka",
        title="営業部長",
    )
    assert [c.field for c in result.changes] == [
        "last_name",
        "last_name_kana",
        "phone",
        "prefecture",
        "title",
    ]
    lead = lead_of(session, lead_id)
    assert (lead.last_name, lead.last_name_kana) == ("山田", "ヤマダ")
    assert (lead.phone, lead.phone_key) == ("０３－１２３４－５６７８", "+81312345678")
    assert (lead.prefecture, lead.region) == ("大阪府", "近畿")
    me = str(org.users["member"])
    assert _field_events(session, lead_id) == [
        ("last_name", "顧客0", "山田", me),
        ("last_name_kana", None, "ヤマダ", me),
        ("phone", None, "０３－１２３４－５６７８", me),
        ("prefecture", None, "大阪府", me),
        ("title", None, "営業部長", me),
    ]
    again = _edit(session, runtime, org, "member", lead_id, last_name="山田", prefecture="大阪府")
    assert again.changes == []
    assert len(_field_events(session, lead_id)) == 5


def test_bad_values_are_refused_each_named_and_nothing_changes(
    session: Session, runtime: Runtime, org: Org
) -> None:
    lead_id = org.leads[0]
    with pytest.raises(EditRefused) as refused:
        _edit(
            session,
            runtime,
            org,
            "member",
            lead_id,
            phone="12",
            first_name_kana="Taro",
            prefecture="カリフォルニア",
            email="not-an-address",
            company="株式会社新社名",
        )
    assert {p.field: p.code for p in refused.value.problems} == {
        "phone": "phone",
        "first_name_kana": "kana",
        "prefecture": "prefecture",
        "email": "email",
    }
    session.rollback()
    assert lead_of(session, lead_id).company == "株式会社顧客0"
    assert _field_events(session, lead_id) == []


def test_an_e_mail_another_lead_has_is_refused_naming_that_lead(
    session: Session, runtime: Runtime, org: Org
) -> None:
    first, second = org.leads
    with pytest.raises(EditRefused) as refused:
        _edit(session, runtime, org, "member", first, email=" LEAD1@customer1.co.jp ")
    (problem,) = refused.value.problems
    assert problem.field == "email"
    assert f"lead {second} (顧客1, 株式会社顧客1)" in problem.message


def test_a_lead_keeps_something_that_identifies_it(
    session: Session, runtime: Runtime, org: Org
) -> None:
    with pytest.raises(EditRefused) as refused:
        _edit(session, runtime, org, "member", org.leads[0], email="", company="")
    assert [p.code for p in refused.value.problems] == ["identity"]


def test_who_may_edit_follows_the_role_table(session: Session, runtime: Runtime, org: Org) -> None:
    lead_id = org.leads[0]  # the member's
    with pytest.raises(Forbidden, match="the member role works only on its own leads"):
        _edit(session, runtime, org, "member2", lead_id, title="課長")
    session.rollback()
    for who, title in (("manager", "部長"), ("marketing", "本部長"), ("admin", "役員")):
        assert _edit(session, runtime, org, who, lead_id, title=title).changes
    assert lead_of(session, lead_id).title == "役員"


def test_a_custom_field_is_changed_added_and_removed(
    session: Session, runtime: Runtime, org: Org
) -> None:
    lead_id = org.leads[0]
    now = runtime.clock.now()
    user = session.get_one(User, org.users["member"])
    rules = active_rules(session, now)
    edit_lead(
        session, rules, lead_id, {}, custom={"利用中のMAシステム": "Marketo"}, user=user, now=now
    )
    edit_lead(
        session, rules, lead_id, {}, custom={"利用中のMAシステム": "HubSpot"}, user=user, now=now
    )
    session.commit()
    assert session.get_one(Lead, lead_id).custom["利用中のMAシステム"] == "HubSpot"
    edit_lead(session, rules, lead_id, {}, custom={"利用中のMAシステム": ""}, user=user, now=now)
    session.commit()
    assert "利用中のMAシステム" not in lead_of(session, lead_id).custom
    assert [e[1:3] for e in _field_events(session, lead_id)] == [
        (None, "Marketo"),
        ("Marketo", "HubSpot"),
        ("HubSpot", None),
    ]


def test_kana_is_read_in_full_width_katakana() -> None:
    assert read_kana("ﾔﾏﾀﾞ　たろう") == "ヤマダ タロウ"
    assert read_kana("スズキ・イチロー") == "スズキ・イチロー"
    with pytest.raises(ValueError, match="山田"):
        read_kana("山田")
