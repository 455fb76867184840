"""Correcting a lead's details on its page: the form's fields, each refused value shown next to
its field in the reader's language, each change a line of the lead's timeline."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from starlette.datastructures import FormData

from leadops.ingest.edit import CUSTOM, FIELDS, EditRefused, edit_lead
from leadops.models import User
from leadops.rules.service import active_rules
from leadops.web.deps import RuntimeDep, WriteSessionDep
from leadops.web.fields import PathId
from leadops.web.pages.lead_fields import field_label, problem_text
from leadops.web.pages.work import lead_view
from leadops.web.render import translator
from leadops.web.security import Reader

router = APIRouter(include_in_schema=False)

NEW_NAME, NEW_VALUE = "new_custom_name", "new_custom_value"


async def form_of(request: Request) -> FormData:
    return await request.form()


def _given(form: FormData) -> tuple[dict[str, str | None], dict[str, str | None]]:
    """The form's fields and custom fields (``custom.NAME``; a new one by name and value)."""
    given: dict[str, str | None] = {}
    for name in FIELDS:
        value = form.get(name)
        given[name] = value if isinstance(value, str) else None
    custom: dict[str, str | None] = {}
    for key, value in form.multi_items():
        if key.startswith(CUSTOM) and isinstance(value, str):
            custom[key.removeprefix(CUSTOM)] = value
    new_name, new_value = form.get(NEW_NAME), form.get(NEW_VALUE)
    if isinstance(new_name, str) and isinstance(new_value, str):
        if new_name.strip() or new_value.strip():
            custom[new_name.strip()] = new_value
    return given, custom


@router.post("/leads/{lead_id:int}/edit", response_class=HTMLResponse)
def edit_action(
    request: Request,
    lead_id: PathId,
    session: WriteSessionDep,
    runtime: RuntimeDep,
    caller: Reader,
    form: Annotated[FormData, Depends(form_of)],
) -> HTMLResponse:
    """Correct the lead's details as the signed-in user; refused values come back in place."""
    now = runtime.clock.now()
    given, custom = _given(form)
    t = translator(request)
    try:
        result = edit_lead(
            session,
            active_rules(session, now),
            lead_id,
            given,
            custom=custom,
            user=session.get_one(User, caller.user_id),
            now=now,
        )
    except EditRefused as refused:
        session.rollback()
        errors = {p.field: problem_text(t, p) for p in refused.problems}
        typed: dict[str, Any] = {**given, **{CUSTOM + k: v for k, v in custom.items()}}
        response = lead_view(
            request, session, runtime, caller, lead_id, edit_errors=errors, edit_typed=typed
        )
        response.status_code = 422
        return response
    done = (
        t.gettext(
            "Details saved: %(fields)s.",
            fields=", ".join(field_label(t, c.field) for c in result.changes),
        )
        if result.changes
        else t.gettext("No change.")
    )
    return lead_view(request, session, runtime, caller, lead_id, done=done)
