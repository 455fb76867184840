"""The lead list (seed 002's view: touch stage, company, name, score, MA system, activity summary)
with filters, sorting, paging, saved views and a CSV export of what the filters select."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from leadops.cells import csv_cell, csv_row, csv_time
from leadops.errors import FieldError, NotFound, ValidationFailed
from leadops.leads import SORTS, LeadFilter, list_leads, stage_counts
from leadops.models import Activity, Lead, SavedView, Team, User
from leadops.models.leads import TOUCH_STAGES
from leadops.normalize import MAX_INT64, parse_datetime, text_problem
from leadops.predict.store import predictions_for
from leadops.reports.export import tables_xlsx
from leadops.rules.segments import Segmentation, segment_filters
from leadops.rules.service import active_rules
from leadops.runtime import Runtime
from leadops.web.deps import RuntimeDep, SessionDep
from leadops.web.exports import CsvEncoding, csv_response, csv_stream, xlsx_response
from leadops.web.fields import VIEW_NAME_LENGTH, PathId, Text
from leadops.web.i18n import Translator
from leadops.web.pages.bulk_fields import bulk_context
from leadops.web.render import locale_of, render, status_labels, translator
from leadops.web.security import Principal, Reader, require

router = APIRouter(include_in_schema=False)

MA_SYSTEM_KEYS = ("利用中のMAシステム", "ma_system", "MA System")
PAGE_SIZE = 50
#: The longest value a list filter takes (a search, a source, a status).
FILTER_LENGTH = 200
CSV_LIMIT = 100_000
#: The segment filters (rules/segments.py); ``custom`` is NAME=VALUE.
SEGMENT_KEYS = (
    "industry",
    "department",
    "title_class",
    "employee_band",
    "prefecture",
    "region",
    "custom",
)
#: The query parameters that make up a view (what a saved view keeps).
FILTER_KEYS = (
    "stage",
    "status",
    "level",
    "team",
    "owner",
    "source",
    "min_score",
    "max_score",
    "created_from",
    "created_to",
    "q",
    "sort",
    "all",
    *SEGMENT_KEYS,
)


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


def _int(values: Mapping[str, str], key: str, errors: list[FieldError]) -> int | None:
    raw = values.get(key, "").strip()
    if not raw:
        return None
    try:
        number = int(raw)
    except ValueError:
        errors.append(FieldError(key, f"expected a whole number, got {raw!r}"))
        return None
    if abs(number) > MAX_INT64:
        errors.append(FieldError(key, f"{raw} is out of range: the most is {MAX_INT64:,}"))
        return None
    return number


def _day(
    values: Mapping[str, str], key: str, runtime: Runtime, errors: list[FieldError]
) -> datetime | None:
    raw = values.get(key, "").strip()
    if not raw:
        return None
    try:
        tz = runtime.settings.tz
        return datetime.combine(
            parse_datetime(raw, tz=tz, date_order="ymd").astimezone(tz).date(), time(0), tzinfo=tz
        )
    except ValueError as exc:
        errors.append(FieldError(key, str(exc)))
        return None


def lead_filter(
    values: Mapping[str, str], runtime: Runtime, *, limit: int, offset: int
) -> LeadFilter:
    """The list's query parameters as a LeadFilter; every bad one is named."""
    errors = [
        FieldError(key, problem)
        for key, value in values.items()
        if (problem := text_problem(value, FILTER_LENGTH)) is not None
    ]
    stage = values.get("stage") or None
    if stage is not None and stage not in TOUCH_STAGES:
        errors.append(
            FieldError("stage", f"expected one of {', '.join(TOUCH_STAGES)}, got {stage!r}")
        )
    sort = values.get("sort") or "-created"
    if sort.lstrip("-") not in SORTS:
        errors.append(FieldError("sort", f"expected one of {', '.join(SORTS)}, got {sort!r}"))
    created_to = _day(values, "created_to", runtime, errors)
    segments: dict[str, str] = {}
    try:
        segments = segment_filters(
            {k: values.get(k) for k in SEGMENT_KEYS if k != "custom"},
            [values.get("custom", "")],
        )
    except ValidationFailed as exc:
        errors.extend(exc.errors)
    flt = LeadFilter(
        touch_stage=stage,
        status=values.get("status") or None,
        owner_id=_int(values, "owner", errors),
        source=values.get("source") or None,
        q=values.get("q") or None,
        limit=limit,
        offset=offset,
        level=_int(values, "level", errors),
        team_id=_int(values, "team", errors),
        min_score=_int(values, "min_score", errors),
        max_score=_int(values, "max_score", errors),
        created_from=_day(values, "created_from", runtime, errors),
        created_before=created_to + timedelta(days=1) if created_to else None,
        sort=sort,
        segments=segments,
    )
    if errors:
        raise ValidationFailed(errors)
    return flt


def my_leads_by_default(caller: Principal, filters: Mapping[str, str]) -> bool:
    """A rep's lead list opens on their own leads, unless they ask for all (``all=1``) or for
    another owner."""
    return caller.role == "member" and "owner" not in filters and filters.get("all") != "1"


def _filters(request: Request) -> dict[str, str]:
    return {k: v for k in FILTER_KEYS if (v := request.query_params.get(k, "").strip())}


@router.get("/leads", response_class=HTMLResponse)
def leads_page(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    caller: Reader,
    page: Annotated[int, Query(ge=1, le=MAX_INT64 // PAGE_SIZE)] = 1,
) -> HTMLResponse:
    return leads_view(request, session, runtime, caller, page)


def leads_view(
    request: Request,
    session: Session,
    runtime: Runtime,
    caller: Principal,
    page: int = 1,
    **extra: Any,
) -> HTMLResponse:
    """The lead list of the request's filters; ``extra``: what a bulk action has to say."""
    filters = _filters(request)
    mine = my_leads_by_default(caller, filters)
    if mine:
        filters["owner"] = str(caller.user_id)
    flt = lead_filter(filters, runtime, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    rules = active_rules(session, runtime.clock.now())
    total, items = list_leads(session, flt, rules)
    last = max(1, -(-total // PAGE_SIZE))
    if page > last:  # a page beyond the last one shows the last one, never an empty "9999 of 100"
        page = last
        flt = replace(flt, offset=(page - 1) * PAGE_SIZE)
        total, items = list_leads(session, flt, rules)
    counts = stage_counts(session, flt, rules)  # of the leads the other filters select
    summaries = activity_summaries(session, [item["id"] for item in items])
    predicted = predictions_for(session, [item["id"] for item in items])
    rows: list[dict[str, Any]] = []
    for item in items:
        custom = item["custom"] or {}
        rows.append(
            {
                **item,
                "ma_system": next((custom[k] for k in MA_SYSTEM_KEYS if custom.get(k)), ""),
                "activities": sorted(summaries.get(item["id"], {}).items(), key=lambda kv: -kv[1]),
                "prediction": predicted.get(item["id"]),
            }
        )
    segmentation = Segmentation(rules.document.segments, session)
    views = session.scalars(
        select(SavedView).where(SavedView.user_id == caller.user_id).order_by(SavedView.name)
    )
    without_stage = {k: v for k, v in filters.items() if k != "stage"}
    return render(
        request,
        "leads.html",
        rows=rows,
        filters=filters,
        stages=TOUCH_STAGES,
        counts=counts,
        all_count=sum(counts.values()),
        total=total,
        page=page,
        pages=last,
        status_label=status_labels(rules, locale_of(request)),
        teams=session.execute(select(Team.id, Team.name).order_by(Team.name)).all(),
        owners=session.execute(
            select(User.id, User.name).where(User.team_id.isnot(None)).order_by(User.name)
        ).all(),
        sources=[
            s for (s,) in session.execute(select(Lead.source).distinct().order_by(Lead.source)) if s
        ],
        sorts=list(SORTS),
        segment_values={
            k: segmentation.values(k)
            for k in ("title_class", "employee_band", "prefecture", "region")
        },
        views=list(views),
        query=urlencode(filters),
        mine=mine,
        toggle_query=urlencode({k: v for k, v in filters.items() if k not in ("owner", "all")}),
        stage_query=urlencode(without_stage),
        probability_query=urlencode(
            {
                **{k: v for k, v in filters.items() if k != "sort"},
                "sort": "probability" if filters.get("sort") == "-probability" else "-probability",
            }
        ),
        **bulk_context(session, caller),
        **extra,
    )


#: The columns of the lead list's downloads (CSV and XLSX), labelled in the reader's language.
EXPORT_COLUMNS = [
    "id",
    "touch_stage",
    "company",
    "last_name",
    "first_name",
    "email",
    "score",
    "level",
    "status",
    "owner",
    "source",
    "prefecture",
    "created_at",
    "last_activity_at",
]


def _word(column: str, value: Any, t: Translator, labels: dict[str, str]) -> Any:
    """A lead's cell for a person: a status by its label, a code by its word, else as it is."""
    if value is None:
        return None
    if column == "status":
        return labels.get(value, value)
    if column in ("touch_stage", "level"):
        return t.gettext(value)
    return value


def _export_rows(
    session: Session, flt: LeadFilter, t: Translator, labels: dict[str, str]
) -> Iterator[list[list[Any]]]:
    """The leads of ``flt`` a page (2,000) at a time, each a row of :data:`EXPORT_COLUMNS` in
    words, up to :data:`CSV_LIMIT`."""
    offset = 0
    while True:
        _total, page = list_leads(session, replace(flt, limit=2000, offset=offset))
        rows = []
        for item in page:
            item["company"] = item["company"] or item["account"]
            rows.append([_word(c, item[c], t, labels) for c in EXPORT_COLUMNS])
        yield rows
        offset += len(page)
        if len(page) < 2000 or offset >= CSV_LIMIT:
            return


def _csv_rows(
    session: Session, flt: LeadFilter, t: Translator, labels: dict[str, str]
) -> Iterator[str]:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(csv_row(t.gettext(c) for c in EXPORT_COLUMNS))
    for rows in _export_rows(session, flt, t, labels):
        for row in rows:
            writer.writerow(["" if v is None else csv_cell(csv_time(v, t.tz)) for v in row])
        yield out.getvalue()
        out.seek(0)
        out.truncate()


@router.get("/leads.csv", dependencies=[require("read")])
def leads_csv(
    request: Request, session: SessionDep, runtime: RuntimeDep, encoding: CsvEncoding = "utf-8"
) -> Response:
    """The leads the filters select, as CSV (UTF-8 with a BOM, or Shift_JIS on request): headers
    and codes in the reader's language, times in the configured zone to the second."""
    flt = lead_filter(_filters(request), runtime, limit=2000, offset=0)
    return leads_csv_response(request, session, runtime, flt, "leads.csv", encoding, whole=True)


@router.get("/leads.xlsx", dependencies=[require("read")])
def leads_xlsx(request: Request, session: SessionDep, runtime: RuntimeDep) -> Response:
    """The leads the filters select, as XLSX: headers and codes in the reader's language, each
    cell typed (ids and scores numbers, times date cells of the configured zone, text text)."""
    t = translator(request)
    flt = lead_filter(_filters(request), runtime, limit=2000, offset=0)
    labels = status_labels(active_rules(session, runtime.clock.now()), t.locale)
    rows = (row for page in _export_rows(session, flt, t, labels) for row in page)
    sheet = (t.gettext("Leads"), EXPORT_COLUMNS, rows)
    return xlsx_response(tables_xlsx([sheet], tz=t.tz, label=t.gettext), "leads.xlsx")


def leads_csv_response(
    request: Request,
    session: Session,
    runtime: Runtime,
    flt: LeadFilter,
    filename: str,
    encoding: str = "utf-8",
    *,
    whole: bool = False,
) -> Response:
    """The leads of ``flt`` as the reader's CSV: the lead list's download (sent as it is
    written) and a selection's (written whole inside the action's transaction)."""
    t = translator(request)
    labels = status_labels(active_rules(session, runtime.clock.now()), t.locale)
    rows = _csv_rows(session, flt, t, labels)
    if whole:
        return csv_response("".join(rows), filename, encoding)
    return csv_stream(rows, filename, encoding)


@router.post("/leads/views", response_model=None)
def save_view(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    caller: Reader,
    name: Annotated[Text, Form(max_length=VIEW_NAME_LENGTH)] = "",
    query: Annotated[Text, Form(max_length=2_000)] = "",
) -> RedirectResponse:
    """Save the current filters under a name (the same name again replaces them)."""
    if not name.strip():
        raise ValidationFailed([FieldError("name", "give the view a name")])
    filters = {k: v for k, v in parse_qsl(query) if k in FILTER_KEYS and v}
    lead_filter(filters, runtime, limit=1, offset=0)  # refuse a view that would not open
    view = session.scalar(
        select(SavedView).where(SavedView.user_id == caller.user_id, SavedView.name == name.strip())
    )
    if view is None:
        view = SavedView(
            user_id=caller.user_id, name=name.strip()[:200], created_at=runtime.clock.now()
        )
        session.add(view)
    view.filters = filters
    session.flush()
    return RedirectResponse(f"/leads?{urlencode(filters)}", status_code=303)


@router.post("/leads/views/{view_id}/delete", response_model=None)
def delete_view(view_id: PathId, session: SessionDep, caller: Reader) -> RedirectResponse:
    view = session.get(SavedView, view_id)
    if view is None or view.user_id != caller.user_id:
        raise NotFound(f"no saved view {view_id}")
    session.delete(view)
    return RedirectResponse("/leads", status_code=303)
