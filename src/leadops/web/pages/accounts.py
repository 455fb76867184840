"""The company page: an account's owner, its leads, its opportunities and its recent activities,
each list newest first and bounded. Whoever may read the lead list may read it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from leadops.errors import NotFound
from leadops.models import Account, Activity, Lead, Opportunity, User
from leadops.rules.service import active_rules
from leadops.web.deps import RuntimeDep, SessionDep
from leadops.web.fields import PathId
from leadops.web.render import locale_of, render, status_labels
from leadops.web.security import Reader

router = APIRouter(include_in_schema=False)

#: The most rows each list of the page shows.
LIMIT = 50


def _leads(session: Session, account_id: int) -> list[dict[str, Any]]:
    stmt = (
        select(Lead, User.name)
        .outerjoin(User, User.id == Lead.owner_id)
        .where(Lead.account_id == account_id, Lead.merged_into_id.is_(None))
        .order_by(Lead.created_at.desc(), Lead.id.desc())
        .limit(LIMIT)
    )
    return [{"lead": lead, "owner": owner} for lead, owner in session.execute(stmt)]


def _opportunities(session: Session, account_id: int, lead_ids: list[int]) -> list[Any]:
    where = Opportunity.account_id == account_id
    if lead_ids:
        where = or_(where, Opportunity.lead_id.in_(lead_ids))
    stmt = (
        select(Opportunity)
        .where(where)
        .order_by(Opportunity.created_at.desc(), Opportunity.id.desc())
        .limit(LIMIT)
    )
    return list(session.scalars(stmt))


def _activities(session: Session, account_id: int) -> list[tuple[Activity, Lead]]:
    stmt = (
        select(Activity, Lead)
        .join(Lead, Lead.id == Activity.lead_id)
        .where(Lead.account_id == account_id, Lead.merged_into_id.is_(None))
        .order_by(Activity.occurred_at.desc(), Activity.id.desc())
        .limit(LIMIT)
    )
    return [(activity, lead) for activity, lead in session.execute(stmt)]


def _owners(session: Session, account: Account, leads: list[dict[str, Any]]) -> list[str]:
    """The account's owner; an account without one: the owners of its leads."""
    if account.owner_id is not None:
        owner = session.get(User, account.owner_id)
        return [owner.name] if owner is not None else []
    return sorted({row["owner"] for row in leads if row["owner"]})


@router.get("/accounts/{account_id:int}", response_class=HTMLResponse)
def account_page(
    request: Request, account_id: PathId, session: SessionDep, runtime: RuntimeDep, caller: Reader
) -> HTMLResponse:
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound(f"no account {account_id}")
    leads = _leads(session, account.id)
    rules = active_rules(session, runtime.clock.now())
    return render(
        request,
        "account.html",
        account=account,
        owners=_owners(session, account, leads),
        leads=leads,
        opportunities=_opportunities(session, account.id, [r["lead"].id for r in leads]),
        activities=_activities(session, account.id),
        status_label=status_labels(rules, locale_of(request)),
        limit=LIMIT,
    )
