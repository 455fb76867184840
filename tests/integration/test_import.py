"""File imports: every row taken, unchanged or rejected with its number and reason."""

from __future__ import annotations

import json
from pathlib import Path

from openpyxl import Workbook
from sqlalchemy import func, select

from leadops.ingest.importer import ImportSummary, rejects_of, run_import
from leadops.ingest.mappings import resolve_mapping
from leadops.leads import find_lead
from leadops.models import Activity, CampaignMember, ImportJob, Lead, LeadEvent, Opportunity
from leadops.runtime import Runtime

SF_JA = (
    "姓,名,メール,会社名,役職,都道府県,リードソース,作成日,従業員数,利用中のMAシステム\n"
    '山田,太郎,Taro@Sample.co.jp,株式会社サンプル,部長,大阪府,展示会,2026/10/01,"1,200",Marketo\n'
    "佐藤,花子,hanako@sample.co.jp,ｻﾝﾌﾟﾙ㈱,課長,大阪,展示会,2026年10月2日,1200,なし\n"
    "鈴木,一郎,,テスト工業,担当,東京都,ウェビナー,2026/10/03,50,HubSpot\n"
    "高橋,次郎,jiro@test.co.jp,テスト工業,担当,ムー大陸,ウェビナー,2026/10/03,50,HubSpot\n"
    "伊藤,三郎,saburo@test.co.jp,テスト工業,担当,東京都,ウェビナー,2026/13/03,50,HubSpot\n"
)


def run(
    runtime: Runtime, kind: str, path: Path, mapping: str | None = None, **kwargs: object
) -> ImportSummary:
    return run_import(
        kind,
        path,
        resolve_mapping(mapping, kind),
        runtime.factory,
        runtime.settings,
        runtime.clock,
        **kwargs,
    )  # type: ignore[arg-type]


def leads_count(runtime: Runtime) -> int:
    with runtime.factory() as session:
        return session.scalar(select(func.count()).select_from(Lead)) or 0


def test_a_shift_jis_salesforce_export_imports_with_row_numbered_rejects_and_flags(
    runtime: Runtime, tmp_path: Path
) -> None:
    path = tmp_path / "salesforce_leads.csv"
    path.write_bytes(SF_JA.encode("cp932"))
    summary = run(runtime, "leads", path, "salesforce")
    assert summary.encoding == "cp932"
    # 鈴木 has no e-mail but a name with a company: taken. ムー大陸 is kept as the region and an
    # unreadable date is left empty, each flagged.
    assert (summary.total, summary.taken, summary.rejected, summary.flagged) == (5, 5, 0, 2)
    assert [(n, f) for n, f, _ in summary.flags] == [
        (5, "unknown_prefecture"),
        (6, "field_not_taken"),
    ]
    assert "ムー大陸" in summary.flags[0][2]
    assert "created_at (column '作成日')" in summary.flags[1][2]
    assert "2026/13/03" in summary.flags[1][2]
    with runtime.factory() as session:
        taro = find_lead(session, "taro@sample.co.jp")
        hanako = find_lead(session, "hanako@sample.co.jp")
        assert taro.account_id == hanako.account_id
        assert (taro.last_name, taro.company, taro.prefecture, taro.region) == (
            "山田",
            "株式会社サンプル",
            "大阪府",
            "近畿",
        )
        assert taro.custom == {"利用中のMAシステム": "Marketo"}
        assert taro.source == "展示会"
        assert rejects_of(session, summary.job_id or 0) == []
        ichiro = session.scalars(select(Lead).where(Lead.last_name == "鈴木")).one()
        assert (ichiro.email, ichiro.company) == (None, "テスト工業")
        jiro = find_lead(session, "jiro@test.co.jp")
        assert (jiro.prefecture, jiro.region) == (None, "ムー大陸")
        assert find_lead(session, "saburo@test.co.jp").custom["作成日"] == "2026/13/03"
        job = session.get(ImportJob, summary.job_id)
        assert job is not None
        assert (job.state, job.rows_total, job.rows_taken, job.rows_rejected) == ("done", 5, 5, 0)


def test_a_dry_run_reports_the_same_and_writes_nothing(runtime: Runtime, tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    path.write_text(SF_JA, encoding="utf-8-sig")
    summary = run(runtime, "leads", path, "salesforce", dry_run=True)
    assert summary.encoding == "utf-8-sig"
    assert (summary.total, summary.taken, summary.rejected, summary.job_id) == (5, 5, 0, None)
    assert leads_count(runtime) == 0
    with runtime.factory() as session:
        assert session.scalar(select(func.count()).select_from(ImportJob)) == 0


def test_importing_the_same_file_twice_changes_nothing(runtime: Runtime, tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    path.write_text(SF_JA, encoding="utf-8")
    first = run(runtime, "leads", path, "salesforce")
    second = run(runtime, "leads", path, "salesforce")
    assert (first.taken, second.taken, second.unchanged) == (5, 0, 5)
    assert leads_count(runtime) == 5


def test_chunks_commit_separately_so_an_interrupted_import_keeps_what_it_took(
    runtime: Runtime, tmp_path: Path
) -> None:
    path = tmp_path / "leads.csv"
    lines = ["email,company"] + [f"p{i}@firm{i % 7}.co.jp,Firm {i % 7}" for i in range(25)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    runtime.settings.import_chunk_size = 10
    calls = []

    def stop_after_two_chunks(done: int, total: int) -> None:
        calls.append(done)
        if len(calls) == 2:
            raise KeyboardInterrupt

    try:
        run(runtime, "leads", path, progress=stop_after_two_chunks)
    except KeyboardInterrupt:
        pass
    assert leads_count(runtime) == 20
    resumed = run(runtime, "leads", path)
    assert (resumed.taken, resumed.unchanged) == (5, 20)
    assert leads_count(runtime) == 25


def test_xlsx_with_japanese_dates_and_numbers(runtime: Runtime, tmp_path: Path) -> None:
    from datetime import datetime

    path = tmp_path / "leads.xlsx"
    book = Workbook()
    sheet = book.active
    sheet.append(["Email Address", "Company Name", "Created At", "Number of Employees", "State"])
    sheet.append(["a@xl.co.jp", "エクセル株式会社", datetime(2026, 9, 1, 9, 30), 300, "Hyogo"])
    sheet.append(["b@xl.co.jp", "エクセル株式会社", "令和8年9月2日", "1,000", "兵庫"])
    book.save(path)
    summary = run(runtime, "leads", path, "marketo")
    assert (summary.taken, summary.rejected) == (2, 0)
    with runtime.factory() as session:
        lead = find_lead(session, "a@xl.co.jp")
        assert lead.created_at.isoformat() == "2026-09-01T00:30:00+00:00"
        assert lead.prefecture == "兵庫県"
        assert (
            find_lead(session, "b@xl.co.jp").created_at.isoformat() == "2026-09-01T15:00:00+00:00"
        )


def test_events_from_json_lines_are_idempotent(runtime: Runtime, tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    events = [
        {
            "email": "a@x.co.jp",
            "type": "content_download",
            "occurred_at": "2026-11-01T10:00:00+09:00",
            "properties": {"asset": "guide.pdf"},
            "source": "marketo",
            "external_id": "m-1",
        },
        {
            "email": "a@x.co.jp",
            "type": "email_open",
            "occurred_at": "2026-11-02T10:00:00+09:00",
            "properties": {"email_id": "w1"},
            "source": "marketo",
            "external_id": "m-2",
        },
        {"email": "b@x.co.jp", "type": "telepathy", "occurred_at": "2026-11-02T10:00:00+09:00"},
    ]
    path.write_text("\n".join(json.dumps(e) for e in events) + "\n", encoding="utf-8")
    first = run(runtime, "events", path)
    assert (first.taken, first.rejected) == (2, 1)
    assert first.rejects[0].row == 3
    assert first.rejects[0].field == "type"
    assert "telepathy" in first.rejects[0].error
    second = run(runtime, "events", path)
    assert (second.taken, second.unchanged, second.rejected) == (0, 2, 1)


def test_events_from_csv_keep_extra_columns_as_properties(runtime: Runtime, tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text(
        "email,type,occurred_at,url,external_id\na@x.co.jp,page_view,2026/11/01 "
        "10:00,/pricing,pv-1\n",
        encoding="utf-8",
    )
    assert run(runtime, "events", path).taken == 1
    with runtime.factory() as session:
        activity = session.scalars(select(Activity)).one()
        assert activity.properties == {"url": "/pricing"}
        assert (activity.source_system, activity.external_id) == ("import", "pv-1")


def test_deals_link_to_leads_accounts_and_users(runtime: Runtime, tmp_path: Path) -> None:
    leads = tmp_path / "leads.csv"
    leads.write_text("email,company,created_at\na@x.co.jp,X株式会社,2026-09-01\n", encoding="utf-8")
    run(runtime, "leads", leads)
    deals = tmp_path / "deals.csv"
    deals.write_text(
        "external_id,lead_email,account,stage,amount,created_at,closed_at,owner\n"
        'D1,a@x.co.jp,X株式会社,won,"1,500,000",2026-09-10,2026-10-01,nobody@x.co.jp\n'
        "D2,a@x.co.jp,X株式会社,negotiation,100,2026-09-10,,\n",
        encoding="utf-8",
    )
    summary = run(runtime, "deals", deals)
    assert (summary.taken, summary.rejected, summary.flagged) == (1, 1, 1)
    assert summary.rejects[0].field == "stage"
    assert summary.flags[0][1] == "unknown_owner"
    with runtime.factory() as session:
        opp = session.scalars(select(Opportunity)).one()
        lead = find_lead(session, "a@x.co.jp")
        assert (opp.stage, opp.amount, opp.lead_id, opp.account_id) == (
            "won",
            1_500_000,
            lead.id,
            lead.account_id,
        )
        assert lead.lifecycle_stage == "customer"
    again = run(runtime, "deals", deals)
    assert again.taken == 1
    with runtime.factory() as session:
        assert session.scalar(select(func.count()).select_from(Opportunity)) == 1


def test_campaign_members_create_campaigns_and_leads(runtime: Runtime, tmp_path: Path) -> None:
    path = tmp_path / "members.csv"
    path.write_text(
        "campaign,campaign_type,email,status,responded_at\n"
        "展示会2026,tradeshow,a@x.co.jp,booth_visit,2026-10-10 11:00\n"
        "展示会2026,tradeshow,b@x.co.jp,attended,2026-10-10 12:00\n"
        "展示会2026,tradeshow,c@x.co.jp,dancing,2026-10-10 12:00\n",
        encoding="utf-8",
    )
    summary = run(runtime, "campaign-members", path)
    assert (summary.taken, summary.rejected) == (2, 1)
    assert "dancing" in summary.rejects[0].error
    with runtime.factory() as session:
        assert session.scalar(select(func.count()).select_from(CampaignMember)) == 2
        assert find_lead(session, "a@x.co.jp").first_campaign_id is not None


def _events(runtime: Runtime) -> int:
    with runtime.factory() as session:
        return session.scalar(select(func.count()).select_from(LeadEvent)) or 0


def test_two_rows_for_one_lead_are_one_lead_and_a_second_import_changes_nothing(
    runtime: Runtime, tmp_path: Path
) -> None:
    """Before, each run moved the lead lead → recycled → lead: an event and a change every time."""
    path = tmp_path / "leads.csv"
    path.write_text(
        "email,status,status_reason,title,phone\n"
        "a@kaisha.co.jp,lead,,部長,06-1111-2222\n"
        "b@kaisha.co.jp,lead,,課長,\n"
        "A@Kaisha.co.jp ,recycled,予算なし,本部長,\n",
        encoding="utf-8",
    )
    runtime.settings.import_chunk_size = 1  # the lead's rows in different chunks
    first = run(runtime, "leads", path)
    assert (first.total, first.taken, first.rejected) == (3, 3, 0)
    assert [(n, f) for n, f, _ in first.flags] == [(4, "same_lead")]
    events = _events(runtime)
    second = run(runtime, "leads", path)
    assert (second.taken, second.unchanged) == (0, 3)
    assert _events(runtime) == events
    with runtime.factory() as session:
        lead = find_lead(session, "a@kaisha.co.jp")
        assert (lead.status, lead.status_reason, lead.title, lead.phone) == (
            "recycled",
            "予算なし",
            "本部長",  # the last row wins
            "06-1111-2222",  # an earlier row fills what it leaves empty
        )
        assert leads_count(runtime) == 2


def test_an_unreadable_date_flags_its_row_and_keeps_the_lead(
    runtime: Runtime, tmp_path: Path
) -> None:
    path = tmp_path / "leads.csv"
    path.write_text(
        "email,created_at\n"
        "a@kaisha.co.jp,26-6-2018\n"
        "b@kaisha.co.jp,2-7-2018\n"
        "c@kaisha.co.jp,6/26/2018\n"
        "d@kaisha.co.jp,いつか\n"
        "e@kaisha.co.jp,13-1-2019\n",
        encoding="utf-8",
    )
    summary = run(runtime, "leads", path)
    assert (summary.taken, summary.rejected) == (5, 0)
    assert [(n, f) for n, f, _ in summary.flags] == [(4, "date_not_read"), (5, "field_not_taken")]
    assert "'6/26/2018' is not a date when read day first" in summary.flags[0][2]
    assert summary.notes[0].startswith("column 'created_at': 2 dates are day first and 1 month")
    with runtime.factory() as session:
        b = find_lead(session, "b@kaisha.co.jp")
        assert b.created_at.isoformat() == "2018-07-01T15:00:00+00:00"  # 2 July in Tokyo
        c = find_lead(session, "c@kaisha.co.jp")
        assert (c.created_at, c.custom) == (runtime.clock.now(), {"created_at": "6/26/2018"})
        assert find_lead(session, "d@kaisha.co.jp").custom == {"created_at": "いつか"}


def test_an_ambiguous_date_column_is_reported_once_and_read_by_date_order(
    runtime: Runtime, tmp_path: Path
) -> None:
    path = tmp_path / "leads.csv"
    path.write_text(
        "email,created_at\na@kaisha.co.jp,1/2/2024\nb@kaisha.co.jp,3/4/2024\n", encoding="utf-8"
    )
    mapping = resolve_mapping(None, "leads")
    mapping.date_order = "dmy"
    summary = run_import("leads", path, mapping, runtime.factory, runtime.settings, runtime.clock)
    assert summary.notes == [
        "column 'created_at': no date says whether it is day or month first (rows 2, 3); read "
        "day first (D/M/Y) by date_order — set date_order: mdy in a mapping if that is wrong"
    ]
    with runtime.factory() as session:
        assert find_lead(session, "a@kaisha.co.jp").created_at.isoformat() == (
            "2024-01-31T15:00:00+00:00"
        )


def test_the_rejects_keep_each_raw_row_as_read_with_its_repeated_columns(
    runtime: Runtime, tmp_path: Path
) -> None:
    path = tmp_path / "leads.csv"
    path.write_text('email,note,note\n,"first\nline",second\n', encoding="utf-8")
    summary = run(runtime, "leads", path)
    with runtime.factory() as session:
        (reject,) = rejects_of(session, summary.job_id or 0)
        assert reject.row_number == 2  # the line the record starts on
        assert reject.raw == {"email": "", "note": "first\nline", "note (2)": "second"}
