"""The lead list's bulk actions: the leads ticked on the page, or every lead the filters select
(the form posts to ``/leads/bulk?<the list's filters>``), reassigned, moved to a status, added to
a campaign or exported as CSV; the list comes back with what was done."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from leadops.cadence.bulk import BULK_MOST, BulkOutcome, bulk_campaign, bulk_reassign, bulk_status
from leadops.errors import FieldError, Forbidden, ValidationFailed
from leadops.leads import LeadFilter, list_leads
from leadops.models import User
from leadops.normalize import MAX_INT64
from leadops.rules.loader import CompiledRules
from leadops.rules.service import active_rules
from leadops.runtime import Runtime
from leadops.web.deps import RuntimeDep, WriteSessionDep
from leadops.web.pages.bulk_fields import outcome_message
from leadops.web.pages.leadedit import form_of
from leadops.web.pages.leads import _filters, lead_filter, leads_csv_response, leads_view
from leadops.web.render import status_labels, translator
from leadops.web.security import Reader

router = APIRouter(include_in_schema=False)


def _ids(text: list[str]) -> list[int]:
    out = []
    for raw in text:
        if not (raw.isascii() and raw.isdigit() and int(raw) <= MAX_INT64):
            raise ValidationFailed([FieldError("lead", f"not a lead id: {raw[:30]!r}")])
        out.append(int(raw))
    return out


def selection(
    request: Request, form: FormData, session: Session, runtime: Runtime, rules: CompiledRules
) -> list[int]:
    """The leads ticked, or, with ``everything``, every lead the list's filters select."""
    if form.get("everything") == "1":
        flt = lead_filter(_filters(request), runtime, limit=BULK_MOST, offset=0)
        total, items = list_leads(session, flt, rules)
        if total > BULK_MOST:
            message = f"{total} leads match the filters; at most {BULK_MOST} at once"
            raise ValidationFailed([FieldError("everything", message)])
        return [item["id"] for item in items]
    ids = _ids([v for v in form.getlist("lead") if isinstance(v, str)][: BULK_MOST + 1])
    if not ids:
        raise ValidationFailed([FieldError("lead", "select at least one lead")])
    return ids


def _text(form: FormData, name: str, most: int = 200) -> str:
    value = form.get(name)
    return value.strip()[:most] if isinstance(value, str) else ""


def _user(session: Session, form: FormData) -> User:
    raw = _text(form, "to", 19)
    target = session.get(User, int(raw)) if raw.isdigit() else None
    if target is None:
        raise ValidationFailed([FieldError("to", "choose the person who takes the leads")])
    return target


def _export(request: Request, session: Session, runtime: Runtime, ids: list[int]) -> Response:
    """The selected leads as the lead list's CSV (the same columns, labels and encoding)."""
    flt = LeadFilter(ids=tuple(ids), limit=2000, sort="created")
    encoding = request.query_params.get("encoding", "utf-8")
    encoding = encoding if encoding in ("utf-8", "shift_jis") else "utf-8"
    return leads_csv_response(
        request, session, runtime, flt, "leads-selected.csv", encoding, whole=True
    )


@router.post("/leads/bulk", response_model=None)
def bulk_action(
    request: Request,
    session: WriteSessionDep,
    runtime: RuntimeDep,
    caller: Reader,
    form: Annotated[FormData, Depends(form_of)],
) -> Response:
    now = runtime.clock.now()
    rules = active_rules(session, now)
    ids = selection(request, form, session, runtime, rules)
    action = _text(form, "action", 20)
    me = session.get_one(User, caller.user_id)
    outcome: BulkOutcome
    if action == "export":
        return _export(request, session, runtime, ids)
    if action == "reassign":
        reason = _text(form, "reason")
        to = _user(session, form)
        outcome = bulk_reassign(session, rules, ids, to, reason=reason, by=me, now=now)
    elif action == "status":
        if not caller.can("work"):
            raise Forbidden(f"the {caller.role} role may not change statuses")
        status, reason = _text(form, "status", 40), _text(form, "reason")
        outcome = bulk_status(session, rules, ids, status, reason=reason, by=me, now=now)
    elif action == "campaign":
        raw = _text(form, "campaign", 19)
        if not raw.isdigit():
            raise ValidationFailed([FieldError("campaign", "choose a campaign")])
        outcome = bulk_campaign(session, rules, ids, int(raw), by=me, now=now)
    else:
        message = "choose what to do: reassign, status, campaign or export"
        raise ValidationFailed([FieldError("action", message)])
    t = translator(request)
    bulk = outcome_message(t, outcome, caller.role, status_labels(rules, t.locale))
    return leads_view(request, session, runtime, caller, bulk=bulk, selected=set(ids))
