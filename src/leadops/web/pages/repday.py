"""A rep's notes on a lead, apart from touches."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from leadops.cadence.notes import NOTE_BODY_LENGTH, add_note
from leadops.web.deps import RuntimeDep, WriteSessionDep
from leadops.web.fields import PathId, Text
from leadops.web.pages.work import lead_view
from leadops.web.render import N_, translator
from leadops.web.security import Worker

router = APIRouter(include_in_schema=False)

#: The timeline's name for a note (its items are shown by kind).
NOTE_KIND = N_("note")


@router.post("/leads/{lead_id:int}/notes", response_class=HTMLResponse)
def note_action(
    request: Request,
    lead_id: PathId,
    session: WriteSessionDep,
    runtime: RuntimeDep,
    caller: Worker,
    body: Annotated[Text, Form(max_length=NOTE_BODY_LENGTH)] = "",
) -> HTMLResponse:
    """Keep a note on the lead as the signed-in user; answers with the lead page."""
    add_note(session, lead_id, user_id=caller.user_id, body=body, now=runtime.clock.now())
    done = translator(request).gettext("Note added.")
    return lead_view(request, session, runtime, caller, lead_id, done=done)
