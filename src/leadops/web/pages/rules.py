"""The rules page: the active document, an editor that checks a draft (every error with its line), a
diff of the draft against the active version, apply, and the version history."""

from __future__ import annotations

import difflib
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from leadops.errors import ValidationFailed
from leadops.rules.loader import Problem, RulesInvalid
from leadops.rules.service import (
    DEFAULT_COMMENT,
    active_rules,
    apply_rules,
    ensure_rules,
    get_version,
    list_versions,
    stale_leads,
    validate,
)
from leadops.web.deps import RuntimeDep, SessionDep
from leadops.web.fields import NOTE_LENGTH, Text
from leadops.web.i18n import N_
from leadops.web.render import render, status_labels, translator
from leadops.web.security import Editor, Reader
from leadops.whatif import preview_rules

router = APIRouter(include_in_schema=False)
#: The shipped defaults' version comment, in the reader's words.
N_("the default rules (seeds 000-004)")


def _diff(old: str, new: str, old_name: str, new_name: str) -> list[tuple[str, str]]:
    """Unified diff lines with their kind (add, del, hunk, same) for colouring."""
    out = []
    for line in difflib.unified_diff(
        old.splitlines(), new.splitlines(), old_name, new_name, lineterm=""
    ):
        kind = (
            "hunk"
            if line.startswith("@@")
            else "add"
            if line.startswith("+")
            else "del"
            if line.startswith("-")
            else "same"
        )
        out.append((kind, line))
    return out


@router.get("/rules", response_class=HTMLResponse)
def rules_page(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    caller: Reader,
    version: int | None = None,
) -> HTMLResponse:
    active = ensure_rules(session, runtime.clock.now())
    shown = get_version(session, version) if version is not None else active
    return render(
        request,
        "rules.html",
        active=active,
        shown=shown,
        versions=list_versions(session),
        default_comment=DEFAULT_COMMENT,
        draft=shown.document,
        lines=shown.document.splitlines(),
        applied=request.query_params.get("applied"),
        stale=stale_leads(session, active),
        diff=_diff(active.document, shown.document, f"v{active.version}", f"v{shown.version}")
        if shown.version != active.version
        else [],
    )


@router.post("/rules/check", response_class=HTMLResponse)
def rules_check(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    caller: Editor,
    document: Annotated[Text, Form()] = "",
) -> HTMLResponse:
    """Check a draft: its errors, each with its line, or that it is valid and how it differs."""
    active = ensure_rules(session, runtime.clock.now())
    problems: list[Problem] = []
    try:
        validate(session, document)
    except RulesInvalid as exc:
        problems = exc.problems
    diff = _diff(active.document, document, f"v{active.version}", "draft")
    return render(request, "_rules_check.html", problems=problems, diff=diff, checked=True)


#: The words of a preview's fields and score bands.
PREVIEW_WORDS = (
    N_("is_valid"),
    N_("team_id"),
    N_("owner_id"),
    N_("-50 or less"),
    N_("-49 to -10"),
    N_("-9 to -1"),
    N_("+1 to +9"),
    N_("+10 to +49"),
    N_("+50 or more"),
)


@router.post("/rules/preview", response_class=HTMLResponse)
def rules_preview(
    request: Request,
    runtime: RuntimeDep,
    caller: Editor,
    document: Annotated[Text, Form()] = "",
) -> HTMLResponse:
    """What applying the draft would change on today's leads, written nowhere: the draft is
    applied in a transaction that is rolled back (``leadops.whatif``)."""
    now = runtime.clock.now()
    try:
        preview = preview_rules(runtime.factory, document, now)
    except RulesInvalid as exc:
        return render(request, "_rules_check.html", problems=exc.problems, diff=[], checked=True)
    with runtime.factory() as session:
        statuses = status_labels(active_rules(session, now), translator(request).locale)
    return render(request, "_rules_preview.html", preview=preview, statuses=statuses)


@router.post("/rules/apply", response_model=None)
def rules_apply(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    caller: Editor,
    document: Annotated[Text, Form()] = "",
    comment: Annotated[Text, Form(max_length=NOTE_LENGTH)] = "",
) -> Response:
    """Apply the draft as the next version. A draft with errors is shown again with them, not
    applied."""
    active = ensure_rules(session, runtime.clock.now())
    try:
        version = apply_rules(
            session,
            document,
            author=caller.email,
            comment=comment.strip() or None,
            now=runtime.clock.now(),
        )
    except (RulesInvalid, ValidationFailed) as exc:
        problems = (
            exc.problems
            if isinstance(exc, RulesInvalid)
            else [Problem(e.path, e.message, None) for e in exc.errors]
        )
        return render(
            request,
            "rules.html",
            status_code=422,
            active=active,
            shown=active,
            versions=list_versions(session),
            default_comment=DEFAULT_COMMENT,
            draft=document,
            comment=comment,
            lines=active.document.splitlines(),
            problems=problems,
            diff=[],
            applied=None,
        )
    return RedirectResponse(f"/rules?applied={version.version}", status_code=303)
