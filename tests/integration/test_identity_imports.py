"""Files of real shape (phone-only lists, repeated rows, owners by name) imported, then imported
again: the second run takes nothing and adds no lead, account, user, event or reject."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from leadops.ingest.importer import ImportSummary, run_import
from leadops.ingest.mappings import resolve_mapping
from leadops.leads import find_lead
from leadops.models import Account, ImportReject, Lead, LeadEvent, User
from leadops.runtime import Runtime
from tests.factories import make_user

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "identity"


def run(runtime: Runtime, name: str, mapping: str | None = None) -> ImportSummary:
    return run_import(
        "leads",
        FIXTURES / name,
        resolve_mapping(mapping and str(FIXTURES / mapping), "leads"),
        runtime.factory,
        runtime.settings,
        runtime.clock,
    )


def counts(runtime: Runtime) -> dict[str, int]:
    with runtime.factory() as session:
        return {
            model.__name__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Lead, Account, User, LeadEvent, ImportReject)
        }


def users(runtime: Runtime, *people: tuple[str, str]) -> dict[str, int]:
    with runtime.factory() as session, session.begin():
        return {name: make_user(session, email=email, name=name).id for email, name in people}


@pytest.mark.parametrize(
    ("name", "mapping"),
    [("phone_only.csv", None), ("repeated.csv", None), ("owners.csv", "owners.yaml")],
)
def test_importing_a_file_twice_changes_nothing_the_second_time(
    runtime: Runtime, name: str, mapping: str | None
) -> None:
    users(runtime, ("yamada@leadops.test", "山田 太郎"), ("sato@leadops.test", "Hanako Sato"))
    first = run(runtime, name, mapping)
    assert first.taken > 0
    after_first = counts(runtime)
    second = run(runtime, name, mapping)
    assert (second.taken, second.rejected) == (0, first.rejected)
    assert second.unchanged == first.taken + first.unchanged
    assert counts(runtime) == {**after_first, "ImportReject": 2 * first.rejected}


def test_a_phone_only_list_is_taken_with_its_places(runtime: Runtime) -> None:
    summary = run(runtime, "phone_only.csv")
    # Row 2 is 山田 again in row 3 (the same phone written otherwise): one lead, written by row 3
    # with row 2 filling in; rows 8 (nothing that says who) and 9 (伊藤: a name, nothing else)
    # are refused.
    assert (summary.total, summary.taken, summary.unchanged, summary.rejected) == (8, 6, 0, 2)
    assert [(r.row, r.field) for r in summary.rejects] == [(8, "email"), (9, "email")]
    assert "a name but no company" in summary.rejects[1].error
    assert [(n, flag) for n, flag, _ in summary.flags] == [
        (3, "same_lead"),
        (7, "region_outside_japan"),
    ]
    with runtime.factory() as session:
        leads = {
            lead.last_name: lead
            for lead in session.scalars(select(Lead).where(Lead.merged_into_id.is_(None)))
        }
        assert sorted(leads) == ["Smith", "佐藤", "山田", "鈴木", "高橋"]
        places = {name: (lead.prefecture, lead.region) for name, lead in leads.items()}
        assert places == {
            "山田": ("東京都", "関東"),
            "佐藤": ("東京都", "関東"),
            "鈴木": ("大阪府", "近畿"),
            "高橋": ("愛知県", "中部"),
            "Smith": (None, "CA"),
        }
        assert leads["山田"].phone == "+81 3 1234 5678"  # as the last row gave it
        # A prefecture column holding a whole address keeps it as the address.
        assert leads["山田"].address == "〒100-0005 東京都千代田区丸の内1-1"
        assert leads["山田"].phone_key == leads["佐藤"].phone_key == "+81312345678"
        assert leads["鈴木"].phone_key == "+81611112222;ext=12"
        assert leads["山田"].account_id == leads["佐藤"].account_id


def test_the_last_row_of_a_lead_wins_by_email_or_by_phone(runtime: Runtime) -> None:
    ids = users(runtime, ("yamada@leadops.test", "山田 太郎"), ("sato@leadops.test", "Hanako Sato"))
    summary = run(runtime, "repeated.csv")
    assert (summary.taken, summary.unchanged, summary.rejected) == (8, 0, 0)
    assert [n for n, flag, _ in summary.flags if flag == "same_lead"] == [3, 5, 7, 9]
    with runtime.factory() as session:
        taro = find_lead(session, "taro@sample.co.jp")
        assert (taro.title, taro.status, taro.owner_id) == ("部長", "partner", ids["Hanako Sato"])
        jiro = session.scalars(select(Lead).where(Lead.last_name == "高橋")).one()
        assert (jiro.email, jiro.title, jiro.status) == (None, "担当", "partner")
        assert jiro.owner_id == ids["山田 太郎"]
        hanako = find_lead(session, "hanako@test.co.jp")
        assert (hanako.title, hanako.status) == ("主任", "partner")
        kimura = find_lead(session, "jiro@compete.co.jp")
        assert (kimura.status, kimura.status_reason) == (
            "disqualified_marketing",
            "競合製品を導入済み",
        )
        moves = session.execute(
            select(LeadEvent.kind, LeadEvent.from_value, LeadEvent.to_value).where(
                LeadEvent.lead_id == taro.id, LeadEvent.kind.in_(["status", "owner"])
            )
        ).all()
        assert sorted(tuple(m) for m in moves) == [
            ("owner", None, str(ids["Hanako Sato"])),
            ("status", "new", "partner"),
        ]


def test_owners_by_name_and_new_ones_created_inactive_when_the_mapping_asks(
    runtime: Runtime,
) -> None:
    ids = users(runtime, ("yamada@leadops.test", "山田 太郎"), ("sato@leadops.test", "Hanako Sato"))
    summary = run(runtime, "owners.csv", "owners.yaml")
    assert (summary.taken, summary.rejected) == (6, 0)
    assert [(n, flag) for n, flag, _ in summary.flags] == [(6, "created_owner")]
    with runtime.factory() as session:
        owners = {
            lead.email: lead.owner_id
            for lead in session.scalars(select(Lead).where(Lead.company == "オーナーズ"))
        }
        tanaka = session.scalars(select(User).where(User.name == "田中 三郎")).one()
        assert not tanaka.active
        assert owners == {
            "a@owners.co.jp": ids["山田 太郎"],
            "b@owners.co.jp": ids["山田 太郎"],
            "c@owners.co.jp": ids["Hanako Sato"],
            "d@owners.co.jp": ids["Hanako Sato"],
            "e@owners.co.jp": tanaka.id,
            "f@owners.co.jp": tanaka.id,
        }


def test_unmatched_owners_are_kept_on_the_lead_and_flagged(runtime: Runtime) -> None:
    summary = run(runtime, "owners.csv")
    assert summary.taken == 6
    assert {flag for _, flag, _ in summary.flags} == {"unknown_owner"}
    with runtime.factory() as session:
        lead = find_lead(session, "f@owners.co.jp")
        assert (lead.owner_id, lead.custom) == (None, {"unmatched_owner": "田中三郎"})
        assert session.scalar(select(func.count()).select_from(User)) == 0
