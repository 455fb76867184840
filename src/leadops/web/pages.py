"""Server-rendered pages (Jinja2). For now: the lead list by touch stage (seed 002's view)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from leadops.leads import LeadFilter, list_leads
from leadops.models import Activity, Lead
from leadops.models.leads import TOUCH_STAGES
from leadops.web.deps import get_runtime, get_session

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
SessionDep = Annotated[Session, Depends(get_session, scope="function")]

MA_SYSTEM_KEYS = ("利用中のMAシステム", "ma_system", "MA System")
PAGE_SIZE = 50


def activity_summaries(session: Session, lead_ids: list[int]) -> dict[int, dict[str, int]]:
    """Activity counts by type for a page of leads (one query)."""
    out: dict[int, dict[str, int]] = defaultdict(dict)
    if lead_ids:
        stmt = (
            select(Activity.lead_id, Activity.type, func.count())
            .where(Activity.lead_id.in_(lead_ids))
            .group_by(Activity.lead_id, Activity.type)
        )
        for lead_id, type_, count in session.execute(stmt):
            out[lead_id][type_] = count
    return out


@router.get("/")
def index() -> RedirectResponse:
    return RedirectResponse("/leads", status_code=303)


@router.get("/leads", response_class=HTMLResponse)
def leads_page(
    request: Request,
    session: SessionDep,
    stage: str | None = None,
    q: str | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
) -> HTMLResponse:
    runtime = get_runtime(request)
    stage = stage if stage in TOUCH_STAGES else None
    total, items = list_leads(
        session, LeadFilter(touch_stage=stage, q=q, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    )
    counts = dict(
        session.execute(
            select(Lead.touch_stage, func.count()).where(Lead.merged_into_id.is_(None)).group_by(Lead.touch_stage)
        ).all()
    )
    summaries = activity_summaries(session, [item["id"] for item in items])
    tz = runtime.settings.tz
    rows: list[dict[str, Any]] = []
    for item in items:
        custom = item["custom"] or {}
        rows.append(
            {
                **item,
                "ma_system": next((custom[k] for k in MA_SYSTEM_KEYS if custom.get(k)), ""),
                "activities": sorted(summaries.get(item["id"], {}).items(), key=lambda kv: -kv[1]),
                "last_activity": item["last_activity_at"].astimezone(tz).strftime("%Y-%m-%d %H:%M")
                if item["last_activity_at"]
                else "",
                "created": item["created_at"].astimezone(tz).strftime("%Y-%m-%d"),
            }
        )
    pages = max(1, -(-total // PAGE_SIZE))
    return templates.TemplateResponse(
        request,
        "leads.html",
        {
            "rows": rows,
            "stage": stage,
            "q": q or "",
            "stages": TOUCH_STAGES,
            "counts": counts,
            "all_count": sum(counts.values()),
            "total": total,
            "page": page,
            "pages": pages,
        },
    )
