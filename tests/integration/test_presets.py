"""Each system's export, as it comes, imported by its preset without a mapping: the file is
recognised, values are translated, dates read by column, and importing it again changes nothing.

The fixtures in tests/fixtures/imports follow the documented formats (header order, quoting,
multi-line cells, delimiter, encoding); their people and companies are made up.
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from leadops.ingest.importer import ImportSummary, run_import
from leadops.ingest.readers import read_columns
from leadops.ingest.recognise import recognise
from leadops.leads import find_lead
from leadops.models import Account, Activity, ImportFlag, Lead, LeadEvent, User
from leadops.runtime import Runtime
from tests.factories import make_user
from tests.unit.test_recognise import FIXTURES, PRESET_OF

JST = ZoneInfo("Asia/Tokyo")


def imported(runtime: Runtime, name: str, **kwargs: object) -> ImportSummary:
    """The fixture imported as the CLI does without --mapping: by the preset it is recognised as."""
    path = FIXTURES / name
    recognition = recognise(read_columns(path), "leads", source=name)
    return run_import(
        "leads",
        path,
        recognition.mapping,
        runtime.factory,
        runtime.settings,
        runtime.clock,
        recognition=recognition,
        actor="test",
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.fixture
def owners(session: Session) -> dict[str, User]:
    """The reps the exports name (Sato Hanako is nobody's user: her leads are flagged)."""
    users = {
        "Yamada Taro": make_user(session, email="yamada@leadops.test", name="Yamada Taro"),
        "Suzuki Ichiro": make_user(session, email="suzuki@leadops.test", name="Suzuki Ichiro"),
        "山田 太郎": make_user(session, email="yamada.ja@leadops.test", name="山田 太郎"),
    }
    users["Yamada Taro"].external_ref = "0055g00000Usr01AAA"
    session.commit()
    return users


def _day(lead: Lead) -> date:
    return lead.created_at.astimezone(JST).date()


def _flags(summary: ImportSummary, flag: str) -> list[int]:
    return [n for n, f, _ in summary.flags if f == flag]


def test_a_semicolon_salesforce_report_with_day_first_dates_and_multi_line_descriptions(
    runtime: Runtime, session: Session, owners: dict[str, User]
) -> None:
    summary = imported(runtime, "salesforce_report_semicolon.csv")
    assert summary.recognised is not None
    assert summary.recognised.startswith("recognised as salesforce")
    assert summary.encoding == "utf-8-sig"
    assert "column 'Create Date': dates read day first (D/M/Y) (26-6-2018 on row 2)" in (
        summary.notes
    )
    assert (summary.total, summary.taken, summary.rejected) == (30, 30, 0)
    card = session.scalars(select(Lead).where(Lead.last_name == "Matsumoto")).one()
    assert (card.email, card.phone_key) == (None, "+81785550109")  # a card: found by its phone
    assert _flags(summary, "same_lead") == [31]
    mori = find_lead(session, "k.mori@minato-seiki.example")
    assert (_day(mori), mori.owner_id, mori.status) == (
        date(2018, 6, 26),
        owners["Yamada Taro"].id,
        "new",
    )
    assert mori.custom["Lead owner"] == "EMEA Queue"  # Lead Owner is the owner, exactly
    fujita = find_lead(session, "a.fujita@minato-seiki.example")
    assert _day(fujita) == date(2018, 7, 2)  # 2-7-2018 in a day-first column is 2 July
    assert (fujita.status, fujita.status_reason) == ("recycled", "Nurturing")  # the last row
    assert fujita.custom["Description"] == "Budget moved to next year."
    dubois = find_lead(session, "c.dubois@dubois-emballages.example")
    assert dubois.custom["Description"].splitlines() == [
        "Referred by the Lyon distributor.",
        "Needs: 3 sites; 40 users.",
        "Decision in Q4.",
    ]
    assert (dubois.prefecture, dubois.region) == (None, "Île-de-France")
    statuses = {
        lead.email: (lead.status, lead.status_reason) for lead in session.scalars(select(Lead))
    }
    assert statuses["s.kimura@kimura-logi.example"] == ("disqualified_sales", "Unqualified")
    assert statuses["j.devries@devries-transport.example"][0] == "customer"
    assert statuses["m.rossi@rossi-meccanica.example"] == (
        "disqualified_sales",
        "Closed - Not Converted",
    )
    assert statuses["h.inoue@inoue-kogyo.example"][0] == "new"  # Open
    assert statuses["l.becker@becker-antriebe.example"][0] == "lead"  # Contacted
    assert statuses["r.sasaki@nara-print.example"][0] == "lead"  # Qualified
    assert _flags(summary, "unknown_owner")  # Sato Hanako is not a user: flagged, not lost


def test_a_us_salesforce_report_with_lead_ids_and_month_first_dates(
    runtime: Runtime, session: Session, owners: dict[str, User]
) -> None:
    summary = imported(runtime, "salesforce_report_us.csv")
    assert "column 'Created Date': dates read month first (M/D/Y) (6/26/2018 on row 2)" in (
        summary.notes
    )
    assert (summary.total, summary.taken, summary.rejected) == (15, 15, 0)
    assert _day(find_lead(session, "m.nguyen@bluepeak-logistics.example")) == date(2018, 7, 2)
    kim = session.scalars(select(Lead).where(Lead.crm_id == "00Q8c00000UsA04EAF")).one()
    assert (kim.email, kim.status, kim.custom["Last Activity"]) == (None, "lead", "10/2/2018")
    assert _flags(summary, "same_lead") == [16]  # one Lead ID twice: one lead
    carter = find_lead(session, "emily.carter@northwind-robotics.example")
    assert (carter.owner_id, carter.prefecture, carter.region) == (
        owners["Yamada Taro"].id,
        None,
        "CA",
    )


def test_a_salesforce_data_export_with_api_names_and_lead_ids(
    runtime: Runtime, session: Session, owners: dict[str, User]
) -> None:
    summary = imported(runtime, "salesforce_data_export_lead.csv")
    assert (summary.total, summary.taken, summary.rejected) == (23, 23, 0)
    mori = find_lead(session, "k.mori@minato-seiki.example")
    assert (mori.crm_source, mori.crm_id, mori.status) == (
        "salesforce",
        "00Q5g00000AbCd1EAF",
        "new",
    )
    assert mori.created_at.isoformat() == "2024-01-09T00:15:00+00:00"
    assert mori.owner_id == owners["Yamada Taro"].id  # OwnerId is the user's external ref
    assert find_lead(session, "y.kobayashi@hanshin-chem.example").status == "customer"
    assert find_lead(session, "d.hayashi@wakayama-marine.example").status_reason == (
        "Closed - Not Converted"
    )
    no_email = session.scalars(select(Lead).where(Lead.crm_id == "00Q5g00000AbCeBEAV")).one()
    assert (no_email.email, no_email.last_name) == (None, "Matsumoto")  # its Lead ID is enough
    assert mori.custom["IsConverted"] == "false"


def test_a_japanese_salesforce_report_in_shift_jis(
    runtime: Runtime, session: Session, owners: dict[str, User]
) -> None:
    summary = imported(runtime, "salesforce_report_ja_sjis.csv")
    assert (summary.encoding, summary.total, summary.taken, summary.rejected) == (
        "cp932",
        20,
        20,
        0,
    )
    mori = find_lead(session, "k.mori@minato-seiki.example")
    assert (mori.last_name, mori.company, mori.prefecture, mori.region) == (
        "森",
        "株式会社みなと精機",
        "大阪府",
        "近畿",
    )
    assert (mori.owner_id, _day(mori), mori.crm_id) == (
        owners["山田 太郎"].id,
        date(2024, 4, 1),
        "00Q5g00000JpA01EAF",
    )
    goto = find_lead(session, "m.goto@kumamoto-agri.example")
    assert (goto.status, goto.custom["リード状況"]) == ("new", "見込みあり")
    assert _flags(summary, "value_not_mapped") == [20]


def test_a_hubspot_contact_export_with_the_companys_repeated_columns(
    runtime: Runtime, session: Session, owners: dict[str, User]
) -> None:
    summary = imported(runtime, "hubspot_contacts_with_company.csv")
    assert (summary.total, summary.taken, summary.rejected) == (22, 22, 0)
    assert "column 'Create Date': dates read month first (M/D/Y) (2/14/24 10:05 on row 5)" in (
        summary.notes
    )
    carter = find_lead(session, "emily.carter@northwind-robotics.example")
    assert carter.created_at.isoformat() == "2024-02-04T16:51:00+00:00"  # the contact's date
    assert carter.custom["Create Date (2)"] == "1/9/23 8:00"  # the company's, kept apart
    assert (carter.crm_source, carter.crm_id, carter.title) == ("hubspot", "69", "COO")
    assert (carter.status, carter.lifecycle_stage) == ("lead", "sql")
    assert (carter.prefecture, carter.region) == (None, "California")
    assert carter.owner_id == owners["Yamada Taro"].id
    mori = find_lead(session, "a.mori@tokyo-design-lab.example")
    assert (mori.company, mori.custom["Company name"]) == (
        "Tokyo Design Lab",
        "株式会社東京デザインラボ",
    )
    assert find_lead(session, "k.ueda@minami-denshi.example").prefecture == "大阪府"
    lopez = find_lead(session, "j.lopez@sunvale-health.example")
    assert (lopez.status, lopez.lifecycle_stage) == ("lead", "customer")
    wilson = find_lead(session, "laura.wilson@maple-edu.example")
    assert (wilson.status, wilson.status_reason, wilson.lifecycle_stage) == (
        "recycled",
        "Bad Timing",
        "mql",
    )
    martinez = find_lead(session, "o.martinez@coastline-retail.example")
    assert (martinez.lifecycle_stage, martinez.custom["Lifecycle Stage"]) == ("inquiry", "Other")
    assert 13 in _flags(summary, "value_not_mapped")
    moves = session.scalars(
        select(LeadEvent.to_value).where(LeadEvent.kind == "lifecycle_stage").order_by(LeadEvent.id)
    ).all()
    assert sorted(moves) == ["customer"] * 3 + ["mql"] * 3 + ["opportunity"] * 2 + ["sql"] * 4


@pytest.mark.parametrize("name", ["marketo_list_export.csv", "marketo_bulk_extract.csv"])
def test_marketo_exports_from_the_ui_and_the_bulk_extract_api(
    runtime: Runtime, session: Session, name: str
) -> None:
    summary = imported(runtime, name)
    assert summary.recognised is not None
    assert summary.recognised.startswith("recognised as marketo")
    assert (summary.taken, summary.rejected, summary.flagged) == (summary.total, 0, 0)
    fujita = find_lead(session, "a.fujita@minato-seiki.example")
    assert (fujita.status, fujita.custom["Marketo lead score"]) == ("lead", "120")
    assert fujita.crm_source == "marketo"
    statuses = {
        lead.email: (lead.status, lead.status_reason) for lead in session.scalars(select(Lead))
    }
    assert statuses["s.kimura@kimura-logi.example"] == ("disqualified_marketing", "Disqualified")
    assert statuses["m.tanaka@kansai-foods.example"] == ("recycled", "Nurture")
    assert statuses["y.maeda@hokkaido-dairy.example"] == ("recycled", "Recycled")
    assert statuses["y.okada@nagoya-robotics.example"][0] == "customer"
    if name == "marketo_bulk_extract.csv":
        assert fujita.created_at.isoformat() == "2024-03-01T01:17:40+00:00"
        assert (fujita.title, fujita.phone) == (None, None)  # null is empty
        inoue = find_lead(session, "h.inoue@inoue-kogyo.example")
        assert (inoue.prefecture, inoue.source) == (None, None)
        assert "null" not in str(inoue.custom)
        assert statuses["m.goto@kumamoto-agri.example"][0] == "new"
    else:
        assert fujita.created_at.isoformat() == "2024-03-01T01:17:40+00:00"
        assert statuses["m.goto@kumamoto-agri.example"] == ("recycled", "リサイクル")


def test_sansan_business_cards_in_shift_jis(runtime: Runtime, session: Session) -> None:
    summary = imported(runtime, "sansan_cards_sjis.csv")
    assert summary.encoding == "cp932"
    assert summary.taken + summary.rejected == summary.total == 20
    assert {r.field for r in summary.rejects} <= {"email"}  # cards with a phone only
    mori = find_lead(session, "k.mori@minato-seiki.example")
    assert (mori.last_name, mori.first_name, mori.department, mori.title) == (
        "森",
        "健二",
        "購買部",
        "部長",
    )
    assert (mori.source, _day(mori), mori.custom["名刺所有者"]) == (
        "名刺交換",
        date(2024, 4, 10),
        "佐藤 花子",
    )  # known since the first card was exchanged; the last card's owner
    assert _flags(summary, "same_lead") == [21]


def test_eight_business_cards(runtime: Runtime, session: Session) -> None:
    summary = imported(runtime, "eight_cards.csv")
    assert summary.taken + summary.rejected == summary.total == 20
    assert {r.field for r in summary.rejects} <= {"email"}
    mori = find_lead(session, "k.mori@minato-seiki.example")
    assert (mori.company, mori.last_name, mori.source, _day(mori)) == (
        "株式会社みなと精機",
        "森",
        "名刺交換",
        date(2024, 6, 3),
    )
    assert mori.custom["TEL直通"] == "06-6123-4501"
    assert mori.phone is not None


def test_a_satori_customer_export(runtime: Runtime, session: Session) -> None:
    summary = imported(runtime, "satori_customers.csv")
    assert (summary.total, summary.taken, summary.rejected, summary.flagged) == (20, 20, 0, 0)
    tanaka = find_lead(session, "m.tanaka@kansai-foods.example")
    assert (tanaka.last_name, tanaka.first_name, tanaka.prefecture) == ("田中", "芽衣", "京都府")
    assert (tanaka.custom["苗字(ふりがな)"], tanaka.custom["SATORI score"]) == ("たなか", "40")
    assert tanaka.created_at.isoformat() == "2024-03-04T00:30:00+00:00"


def test_a_japanese_crm_list_in_shift_jis(
    runtime: Runtime, session: Session, owners: dict[str, User]
) -> None:
    summary = imported(runtime, "japanese_crm_list_sjis.csv")
    assert (summary.encoding, summary.total) == ("cp932", 25)
    assert summary.taken + summary.rejected == 25
    assert {r.field for r in summary.rejects} <= {"email"}
    kimura = find_lead(session, "s.kimura@kimura-logi.example")
    assert (kimura.company, _day(kimura)) == ("木村ロジスティクス㈱", date(2023, 10, 3))
    mori = find_lead(session, "k.mori@minato-seiki.example")
    assert mori.owner_id == owners["山田 太郎"].id  # 担当営業
    assert session.get(Account, mori.account_id) is not None


def test_the_phone_only_rows_of_the_crm_list_are_taken(runtime: Runtime) -> None:
    assert imported(runtime, "japanese_crm_list_sjis.csv").rejected == 0


def test_an_excel_list_with_japanese_headers(runtime: Runtime, session: Session) -> None:
    summary = imported(runtime, "japanese_list.xlsx")
    assert (summary.encoding, summary.total, summary.taken, summary.rejected) == (None, 12, 12, 0)
    prefectures = {lead.email: lead.prefecture for lead in session.scalars(select(Lead))}
    assert prefectures["m.nakajima@naniwa-koki.example"] == "大阪府"
    assert prefectures["m.takada@kobe-bay.example"] == "兵庫県"
    assert prefectures["a.kawaguchi@shiga-medical.example"] == "滋賀県"  # JIS code 25


def _counts(session: Session) -> tuple[int, ...]:
    session.rollback()  # a new snapshot: the imports wrote from other sessions
    return tuple(
        session.scalar(select(func.count()).select_from(model)) or 0
        for model in (Lead, Account, LeadEvent, Activity, User)
    )


@pytest.mark.parametrize("name", sorted(PRESET_OF))
def test_importing_any_fixture_twice_changes_nothing_the_second_time(
    runtime: Runtime, session: Session, owners: dict[str, User], name: str
) -> None:
    first = imported(runtime, name)
    after_first = _counts(session)
    second = imported(runtime, name)
    assert _counts(session) == after_first
    assert (second.taken, second.unchanged, second.rejected) == (
        0,
        first.taken + first.unchanged,
        first.rejected,
    )
    assert after_first[0] == first.taken - len(_flags(first, "same_lead"))


def test_the_files_notes_are_kept_with_its_job(runtime: Runtime, session: Session) -> None:
    summary = imported(runtime, "hubspot_contacts_with_company.csv")
    session.rollback()
    notes = session.scalars(
        select(ImportFlag.message).where(
            ImportFlag.job_id == summary.job_id, ImportFlag.flag == "file"
        )
    ).all()
    assert notes[0].startswith("recognised as hubspot")
    assert notes[1].startswith("column 'Create Date': dates read month first")


def test_fixture_files_are_small() -> None:
    assert all(p.stat().st_size < 20_000 for p in FIXTURES.iterdir())
