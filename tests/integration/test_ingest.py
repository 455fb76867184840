"""Leads and activities in: dedup, accounts, merging, idempotency."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from leadops.ingest.activities import ingest_activities
from leadops.ingest.leads import merge_leads
from leadops.leads import find_lead
from leadops.models import Account, Activity, Campaign, Lead, LeadEvent, Touch
from leadops.pipeline import process
from leadops.rules.service import active_rules
from leadops.runtime import Runtime
from tests.factories import ingest_context, make_lead


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_the_same_person_in_any_spelling_is_one_lead(session: Session, runtime: Runtime) -> None:
    first = make_lead(session, runtime, email="Taro.Yamada@Example.co.jp", last_name="山田")
    again = make_lead(
        session,
        runtime,
        email="  ｔａｒｏ．ｙａｍａｄａ＠ｅｘａｍｐｌｅ．ｃｏ．ｊｐ ",
        title="部長",
    )
    assert again.id == first.id
    assert count(session, Lead) == 1
    assert (again.last_name, again.title) == ("山田", "部長")


def test_an_empty_value_never_blanks_a_known_one(session: Session, runtime: Runtime) -> None:
    make_lead(session, runtime, email="a@example.co.jp", phone="06-1234-5678")
    lead = make_lead(session, runtime, email="a@example.co.jp", phone="")
    assert lead.phone == "06-1234-5678"


def test_colleagues_share_an_account_by_domain(session: Session, runtime: Runtime) -> None:
    a = make_lead(session, runtime, email="a@sample.co.jp", company="株式会社サンプル")
    b = make_lead(session, runtime, email="b@sample.co.jp", company="サンプル")
    c = make_lead(session, runtime, email="c@sample.co.jp")
    assert a.account_id == b.account_id == c.account_id
    assert count(session, Account) == 1


def test_free_mail_leads_match_by_company_name_not_by_domain(
    session: Session, runtime: Runtime
) -> None:
    a = make_lead(session, runtime, email="a@gmail.com", company="株式会社サンプル")
    b = make_lead(session, runtime, email="b@gmail.com", company="テスト工業㈱")
    c = make_lead(session, runtime, email="c@yahoo.co.jp", company="ｻﾝﾌﾟﾙ(株)")
    assert a.account_id == c.account_id != b.account_id
    d = make_lead(session, runtime, email="d@sample.co.jp", company="サンプル株式会社")
    assert d.account_id == a.account_id
    account = session.get(Account, a.account_id)
    assert account is not None
    assert account.domain == "sample.co.jp"


def test_prefecture_in_any_form_sets_prefecture_and_region(
    session: Session, runtime: Runtime
) -> None:
    lead = make_lead(session, runtime, email="a@x.co.jp", prefecture="Osaka")
    assert (lead.prefecture, lead.region) == ("大阪府", "近畿")
    lead = make_lead(session, runtime, email="b@x.co.jp", prefecture="24")
    assert (lead.prefecture, lead.region) == ("三重県", "中部")


def test_a_new_lead_records_its_creation_event(session: Session, runtime: Runtime) -> None:
    lead = make_lead(session, runtime, email="a@x.co.jp", created_at="2026-10-01 10:00")
    events = session.scalars(select(LeadEvent).where(LeadEvent.lead_id == lead.id)).all()
    assert [(e.kind, e.to_value, e.at) for e in events] == [("created", "new", lead.created_at)]


def test_resending_an_activity_changes_nothing(session: Session, runtime: Runtime) -> None:
    ctx = ingest_context(session, runtime)
    batch = [
        {
            "email": "a@x.co.jp",
            "type": "form_submit",
            "occurred_at": "2026-11-20T10:00:00+09:00",
            "properties": {"form": "inquiry"},
            "source": "form",
            "external_id": "f-1",
        },
        {
            "email": "a@x.co.jp",
            "type": "page_view",
            "occurred_at": "2026-11-20T09:50:00+09:00",
            "properties": {"url": "/pricing"},
        },
    ]
    first = ingest_activities(ctx, batch)
    assert (first.accepted, first.duplicates, first.new_leads) == (2, 0, 1)
    second = ingest_activities(ctx, batch)
    assert (second.accepted, second.duplicates, second.new_leads) == (0, 2, 0)
    assert count(session, Activity) == 2
    lead = find_lead(session, "a@x.co.jp")
    assert lead.created_at.isoformat() == "2026-11-20T00:50:00+00:00"
    assert lead.last_activity_at is not None
    assert lead.last_activity_at.isoformat() == "2026-11-20T01:00:00+00:00"


def test_the_same_event_twice_in_one_batch_is_stored_once(
    session: Session, runtime: Runtime
) -> None:
    item = {
        "email": "a@x.co.jp",
        "type": "email_open",
        "occurred_at": "2026-11-20T10:00:00+09:00",
        "external_id": "o1",
    }
    result = ingest_activities(ingest_context(session, runtime), [item, dict(item)])
    assert (result.accepted, result.duplicates) == (1, 1)


def test_activities_name_their_campaign_which_is_created_once(
    session: Session, runtime: Runtime
) -> None:
    ctx = ingest_context(session, runtime)
    items = [
        {
            "email": f"p{i}@x.co.jp",
            "type": "webinar_register",
            "occurred_at": "2026-11-01",
            "campaign": "ウェビナーA",
        }
        for i in range(3)
    ]
    ingest_activities(ctx, items)
    campaigns = session.scalars(select(Campaign)).all()
    assert [(c.name, c.type) for c in campaigns] == [("ウェビナーA", "webinar")]


def test_merging_moves_every_piece_of_history(session: Session, runtime: Runtime) -> None:
    keep = make_lead(session, runtime, email="keep@x.co.jp")
    dup = make_lead(
        session, runtime, email="dup@x.co.jp", phone="03-0000-0000", created_at="2026-01-05"
    )
    ctx = ingest_context(session, runtime)
    ingest_activities(
        ctx, [{"email": "dup@x.co.jp", "type": "content_download", "occurred_at": "2026-11-01"}]
    )
    session.add(Touch(lead_id=dup.id, at=runtime.clock.now(), channel="call", outcome="no_answer"))
    session.flush()
    merge_leads(ctx, winner=keep, loser=dup)
    session.flush()
    assert (
        session.scalar(
            select(func.count()).select_from(Activity).where(Activity.lead_id == keep.id)
        )
        == 1
    )
    assert (
        session.scalar(select(func.count()).select_from(Touch).where(Touch.lead_id == keep.id)) == 1
    )
    assert keep.phone == "03-0000-0000"
    assert keep.created_at == dup.created_at
    assert dup.merged_into_id == keep.id
    assert find_lead(session, str(dup.id)).id == keep.id
    kinds = session.scalars(select(LeadEvent.kind).where(LeadEvent.lead_id == keep.id)).all()
    assert (kinds.count("merged"), kinds.count("created")) == (1, 1)
    # The duplicate keeps its own history, ending in its merge.
    history = session.execute(
        select(LeadEvent.kind, LeadEvent.to_value)
        .where(LeadEvent.lead_id == dup.id)
        .order_by(LeadEvent.id)
    ).all()
    assert [tuple(h) for h in history][0] == ("created", "new")
    assert tuple(history[-1]) == ("status", "merged")
    process(session, active_rules(session, ctx.now), ctx.now, [keep.id])
    session.refresh(keep)
    assert keep.score == 10  # the winner is rescored with the download it inherited


def test_a_lead_found_by_email_and_another_by_external_id_are_merged(
    session: Session, runtime: Runtime
) -> None:
    by_id = make_lead(
        session, runtime, email=None, external_id="SF-001", crm_source="salesforce", company="X"
    )  # type: ignore[arg-type]
    by_email = make_lead(session, runtime, email="a@x.co.jp")
    merged = make_lead(
        session, runtime, email="a@x.co.jp", external_id="SF-001", crm_source="salesforce"
    )
    assert merged.id == by_email.id
    assert (merged.crm_source, merged.crm_id) == ("salesforce", "SF-001")
    assert by_id.merged_into_id == by_email.id
