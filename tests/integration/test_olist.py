"""Olist's real B2B funnel goes in whole: 8,000 MQLs, 842 won deals, quirks kept and flagged."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import func, select

from leadops.ingest.importer import run_import
from leadops.ingest.mappings import resolve_mapping
from leadops.models import ImportFlag, Lead, Opportunity, User
from leadops.runtime import Runtime
from tests.conftest import requires_shared_data
from tests.olist_data import EXAMPLES, OLIST, read

pytestmark = [requires_shared_data(), pytest.mark.slow]


def test_olist_funnel_imports_whole_with_its_quirks(runtime: Runtime) -> None:
    mqls = read("olist_marketing_qualified_leads_dataset.csv")
    deals = read("olist_closed_deals_dataset.csv")
    first_contact = {m["mql_id"]: m["first_contact_date"] for m in mqls}
    won_early = {d["mql_id"] for d in deals if d["won_date"][:10] < first_contact[d["mql_id"]]}
    origins = Counter(m["origin"] for m in mqls)
    reps = {d["sdr_id"] for d in deals} | {d["sr_id"] for d in deals}

    lead_job = run_import(
        "leads",
        OLIST / "olist_marketing_qualified_leads_dataset.csv",
        resolve_mapping(str(EXAMPLES / "olist-mqls.yaml"), "leads"),
        runtime.factory,
        runtime.settings,
        runtime.clock,
    )
    deal_job = run_import(
        "deals",
        OLIST / "olist_closed_deals_dataset.csv",
        resolve_mapping(str(EXAMPLES / "olist-deals.yaml"), "deals"),
        runtime.factory,
        runtime.settings,
        runtime.clock,
    )

    assert (lead_job.total, lead_job.taken, lead_job.rejected) == (len(mqls), 8000, 0)
    assert (deal_job.total, deal_job.taken, deal_job.rejected) == (len(deals), 842, 0)
    with runtime.factory() as session:
        assert session.scalar(select(func.count()).select_from(Lead)) == 8000
        won = session.scalar(
            select(func.count()).select_from(Opportunity).where(Opportunity.stage == "won")
        )
        assert won == len(deals) == 842
        linked = session.scalar(
            select(func.count()).select_from(Opportunity).where(Opportunity.lead_id.is_not(None))
        )
        assert linked == 842
        customers = session.scalar(
            select(func.count()).select_from(Lead).where(Lead.lifecycle_stage == "customer")
        )
        assert customers == 842

        # Blank origins stay blank, apart from the value "unknown".
        blank = session.scalar(select(func.count()).select_from(Lead).where(Lead.source.is_(None)))
        unknown = session.scalar(
            select(func.count()).select_from(Lead).where(Lead.source == "unknown")
        )
        assert (blank, unknown) == (origins[""], origins["unknown"]) == (60, 1099)

        # The deal won before its lead's first contact is kept, and flagged on the deal and the
        # import.
        assert len(won_early) == 1
        flagged = session.scalars(
            select(Opportunity).where(Opportunity.crm_id.in_(won_early))
        ).all()
        assert [o.flags for o in flagged] == [["won_before_first_contact"]]
        flags = session.scalars(
            select(ImportFlag).where(ImportFlag.job_id == deal_job.job_id)
        ).all()
        assert [f.flag for f in flags] == ["won_before_first_contact"]
        assert flags[0].row_number == 2 + [d["mql_id"] for d in deals].index(next(iter(won_early)))

        # SDRs and SRs became users, each once.
        assert session.scalar(select(func.count()).select_from(User)) == len(reps)
        sample = deals[0]
        opp = session.scalars(
            select(Opportunity).where(Opportunity.crm_id == sample["mql_id"])
        ).one()
        owner = session.get(User, opp.owner_id)
        sdr = session.get(User, opp.sdr_id)
        assert owner is not None
        assert sdr is not None
        assert (owner.external_ref, sdr.external_ref) == (sample["sr_id"], sample["sdr_id"])
        assert opp.custom["business_segment"] == sample["business_segment"]
