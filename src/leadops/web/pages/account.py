"""Signing in and out, the language switch, the notifications inbox and the settings page."""

from __future__ import annotations

import hmac
import math
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadops import auth
from leadops.cadence.quotas import Targets, list_quotas, parse_month, set_quota, settable
from leadops.config import Settings
from leadops.delivery import inbox, mark_all_read
from leadops.errors import FieldError, Forbidden, NotFound, ValidationFailed
from leadops.models import ApiToken, Notification, OutOfOffice, Team, User, column_length
from leadops.normalize import parse_datetime
from leadops.runtime import Runtime
from leadops.throttle import Throttle
from leadops.web.deps import RuntimeDep, SessionDep, WriteSessionDep
from leadops.web.fields import PathId, Text
from leadops.web.i18n import LOCALES
from leadops.web.render import LANG_COOKIE, render, translator
from leadops.web.security import (
    SESSION_COOKIE,
    SIGNIN_COOKIE,
    Admin,
    Manager,
    Principal,
    Reader,
    require,
)

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only paths of this site (never //host or a scheme) are followed after signing in."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def _signin_page(
    request: Request, next_: str, status_code: int = 200, error: str | None = None
) -> HTMLResponse:
    token = request.cookies.get(SIGNIN_COOKIE) or auth.new_secret()
    response = render(
        request,
        "signin.html",
        status_code=status_code,
        signin_csrf=token,
        next=next_,
        signin_error=error,
        email=request.query_params.get("email", ""),
    )
    response.set_cookie(SIGNIN_COOKIE, token, httponly=True, samesite="strict", path="/signin")
    lang = request.query_params.get("lang")
    if lang in LOCALES:
        response.set_cookie(LANG_COOKIE, lang, samesite="lax", max_age=365 * 86400)
    return response


@router.get("/signin", response_class=HTMLResponse)
def signin_form(request: Request, next: str | None = None) -> HTMLResponse:  # noqa: A002
    return _signin_page(request, _safe_next(next))


def throttle_of(settings: Settings) -> Throttle:
    return Throttle(
        per_account=settings.signin_failures_per_account,
        per_address=settings.signin_failures_per_address,
        window=timedelta(minutes=settings.signin_failure_window_minutes),
    )


def _throttled_page(request: Request, next_: str, retry_after: int) -> HTMLResponse:
    """Too many failed sign-ins: 429, with the seconds to wait in Retry-After and the minutes in
    the message."""
    minutes = math.ceil(retry_after / 60)
    message = translator(request).gettext(
        "Too many failed sign-ins. Try again in %(minutes)s min.", minutes=minutes
    )
    page = _signin_page(request, next_, 429, message)
    page.headers["Retry-After"] = str(retry_after)
    return page


@router.post("/signin", response_model=None)
def signin(
    request: Request,
    runtime: RuntimeDep,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",  # noqa: A002
) -> Response:
    expected = request.cookies.get(SIGNIN_COOKIE, "")
    t = translator(request)
    if not expected or not hmac.compare_digest(expected, csrf_token):
        return _signin_page(
            request, _safe_next(next), 403, t.gettext("The sign-in form expired. Please try again.")
        )
    outcome = auth.sign_in(
        runtime.factory,
        email,
        password,
        address=request.client.host if request.client else "",
        now=runtime.clock.now(),
        throttle=throttle_of(runtime.settings),
        session_hours=runtime.settings.session_hours,
    )
    if outcome.retry_after is not None:
        return _throttled_page(request, _safe_next(next), outcome.retry_after)
    if outcome.secret is None:
        return _signin_page(request, _safe_next(next), 401, t.gettext("Wrong e-mail or password."))
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        outcome.secret,
        httponly=True,
        samesite="lax",
        secure=runtime.settings.cookie_secure,
        max_age=int(runtime.settings.session_hours * 3600),
        path="/",
    )
    response.delete_cookie(SIGNIN_COOKIE, path="/signin")
    return response


@router.post("/signout", response_model=None, dependencies=[require("read")])
def signout(request: Request, runtime: RuntimeDep) -> Response:
    with runtime.factory() as session, session.begin():
        auth.end_session(session, request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.post("/settings/locale", response_model=None)
async def set_locale(request: Request, runtime: RuntimeDep, caller: Reader) -> Response:
    form = await request.form()
    locale = str(form.get("locale", ""))
    if locale not in LOCALES:
        raise ValidationFailed(
            [FieldError("locale", f"expected one of {', '.join(LOCALES)}, got {locale!r}")]
        )
    with runtime.factory() as session, session.begin():
        session.get_one(User, caller.user_id).locale = locale
    target = _safe_next(str(form.get("next", "/")))
    return RedirectResponse(target, status_code=303, headers={"HX-Redirect": target})


def _inbox_items(session: Session, runtime: Runtime, user_id: int) -> list[dict[str, Any]]:
    """The inbox with each payload's deadline read back into a time, shown in the reader's zone."""
    items = inbox(session, user_id, limit=200)
    for item in items:
        due = item["payload"].get("due_at")
        try:
            item["due_at"] = parse_datetime(due, tz=runtime.settings.tz) if due else None
        except ValueError:
            item["due_at"] = None
    return items


@router.get("/notifications", response_class=HTMLResponse)
def notifications_page(
    request: Request, session: SessionDep, runtime: RuntimeDep, caller: Reader
) -> HTMLResponse:
    items = _inbox_items(session, runtime, caller.user_id)
    done = translator(request).gettext("All marked read.") if "done" in request.query_params else ""
    return render(request, "notifications.html", items=items, done=done)


@router.post("/notifications/read-all")
def notifications_read_all(
    session: WriteSessionDep, runtime: RuntimeDep, caller: Reader
) -> RedirectResponse:
    """Marks the whole inbox read; posting it again changes nothing."""
    mark_all_read(session, caller.user_id, runtime.clock.now())
    return RedirectResponse("/notifications?done=1", status_code=303)


@router.post("/notifications/{notification_id}/read", response_class=HTMLResponse)
def notification_read(
    request: Request,
    notification_id: PathId,
    session: SessionDep,
    runtime: RuntimeDep,
    caller: Reader,
) -> HTMLResponse:
    note = session.get(Notification, notification_id)
    if note is None or note.recipient_id != caller.user_id or note.channel != "in_app":
        raise NotFound(f"no notification {notification_id} in your inbox")
    if note.read_at is None:
        note.read_at = runtime.clock.now()
    items = _inbox_items(session, runtime, caller.user_id)
    unread = sum(1 for item in items if item["read_at"] is None)
    return render(request, "notifications.html", items=items, unread=unread)


def _settings_context(session: Session, caller: Principal) -> dict[str, Any]:
    tokens = session.scalars(
        select(ApiToken)
        .where(ApiToken.user_id == caller.user_id)
        .order_by(ApiToken.created_at.desc())
    ).all()
    away = session.scalars(
        select(OutOfOffice)
        .where(OutOfOffice.user_id == caller.user_id)
        .order_by(OutOfOffice.starts_at.desc())
    ).all()
    context: dict[str, Any] = {
        "tokens": tokens,
        "away": away,
        "scopes": auth.TOKEN_SCOPES,
        "roles": auth.ROLES,
    }
    if caller.can("manage"):
        teams, members = settable(session, session.get_one(User, caller.user_id))
        context["quota_teams"], context["quota_members"] = teams, members
        context["quotas"] = sorted(list_quotas(session), key=lambda q: q["month"], reverse=True)[
            :QUOTAS_SHOWN
        ]
    if caller.role == "admin":
        context["users"] = session.scalars(select(User).order_by(User.role, User.email)).all()
        context["teams"] = {t.id: t for t in session.scalars(select(Team).order_by(Team.name))}
    return context


#: The most recent quotas the Settings page lists.
QUOTAS_SHOWN = 60


def _count(text: str, field: str) -> int | None:
    raw = text.strip().replace(",", "")
    if not raw:
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > 10:
        raise ValidationFailed([FieldError(field, f"expected a whole number, got {text!r}")])
    return int(raw)


def _money(text: str, field: str) -> float | None:
    raw = text.strip().replace(",", "")
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise ValidationFailed([FieldError(field, f"expected an amount, got {text!r}")]) from None
    if not math.isfinite(value):
        raise ValidationFailed([FieldError(field, f"expected an amount, got {text!r}")])
    return value


@router.post("/settings/quotas", response_class=HTMLResponse)
def quota_set(
    request: Request,
    session: WriteSessionDep,
    runtime: RuntimeDep,
    caller: Manager,
    month: Annotated[Text, Form(max_length=7)] = "",
    subject: Annotated[Text, Form(max_length=40)] = "",
    touches: Annotated[Text, Form(max_length=20)] = "",
    connects: Annotated[Text, Form(max_length=20)] = "",
    appointments: Annotated[Text, Form(max_length=20)] = "",
    opportunities: Annotated[Text, Form(max_length=20)] = "",
    won_amount: Annotated[Text, Form(max_length=30)] = "",
) -> HTMLResponse:
    """Set a month's targets of a team or a member the caller manages."""
    kind, _, ref = subject.partition(":")
    if kind not in ("team", "member") or not ref:
        raise ValidationFailed([FieldError("subject", "choose a team or a member")])
    targets = Targets(
        appointments=_count(appointments, "appointments"),
        opportunities=_count(opportunities, "opportunities"),
        won_amount=_money(won_amount, "won_amount"),
        touches=_count(touches, "touches"),
        connects=_count(connects, "connects"),
    )
    quota = set_quota(
        session,
        actor=session.get_one(User, caller.user_id),
        month=parse_month(month),
        team=ref if kind == "team" else None,
        member=ref if kind == "member" else None,
        targets=targets,
        now=runtime.clock.now(),
    )
    t = translator(request)
    done = t.gettext("Quota saved: %(month)s %(name)s", month=quota["month"], name=quota["name"])
    return render(request, "settings.html", done=done, **_settings_context(session, caller))


@router.get("/settings", response_class=HTMLResponse)
def settings_page(request: Request, session: SessionDep, caller: Reader) -> HTMLResponse:
    return render(request, "settings.html", **_settings_context(session, caller))


@router.post("/settings/tokens", response_class=HTMLResponse)
def token_create(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    caller: Reader,
    name: Annotated[Text, Form(max_length=column_length(ApiToken.name))] = "",
    scope: Annotated[str, Form(max_length=10)] = "read",
) -> HTMLResponse:
    user = session.get_one(User, caller.user_id)
    secret, _row = auth.create_token(session, user, name=name, scope=scope, now=runtime.clock.now())
    return render(request, "settings.html", new_token=secret, **_settings_context(session, caller))


@router.post("/settings/tokens/{token_id}/revoke", response_class=HTMLResponse)
def token_revoke(
    request: Request, token_id: PathId, session: SessionDep, runtime: RuntimeDep, caller: Reader
) -> HTMLResponse:
    auth.revoke_token(
        session, token_id, user=session.get_one(User, caller.user_id), now=runtime.clock.now()
    )
    return render(request, "settings.html", **_settings_context(session, caller))


def _local_time(value: str, field: str, runtime: Runtime) -> datetime:
    try:
        return parse_datetime(value, tz=runtime.settings.tz)
    except ValueError as exc:
        raise ValidationFailed([FieldError(field, str(exc))]) from None


@router.post("/settings/away", response_class=HTMLResponse)
def away_add(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    caller: Reader,
    starts: Annotated[Text, Form(max_length=40)] = "",
    ends: Annotated[Text, Form(max_length=40)] = "",
    note: Annotated[Text, Form(max_length=column_length(OutOfOffice.note))] = "",
) -> HTMLResponse:
    start, end = _local_time(starts, "starts", runtime), _local_time(ends, "ends", runtime)
    if end <= start:
        raise ValidationFailed([FieldError("ends", "the end must come after the start")])
    session.add(
        OutOfOffice(user_id=caller.user_id, starts_at=start, ends_at=end, note=note.strip() or None)
    )
    session.flush()
    return render(request, "settings.html", **_settings_context(session, caller))


@router.post("/settings/users", response_class=HTMLResponse)
def user_add(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    caller: Admin,
    email: Annotated[Text, Form(max_length=column_length(User.email))] = "",
    name: Annotated[Text, Form(max_length=column_length(User.name))] = "",
    role: Annotated[str, Form(max_length=20)] = "member",
    team: Annotated[Text, Form(max_length=column_length(Team.name))] = "",
    password: Annotated[str, Form()] = "",
) -> HTMLResponse:
    user, created = auth.add_user(
        session,
        email,
        password=password,
        role=role,
        name=name.strip() or None,
        team=team or None,
        now=runtime.clock.now(),
    )
    t = translator(request)
    done = (
        t.gettext("Account created: %(email)s", email=user.email or "")
        if created
        else t.gettext("Account updated: %(email)s", email=user.email or "")
    )
    return render(request, "settings.html", done=done, **_settings_context(session, caller))


@router.post("/settings/users/{user_id}/active", response_class=HTMLResponse)
def user_active(
    request: Request,
    user_id: PathId,
    session: SessionDep,
    runtime: RuntimeDep,
    caller: Admin,
    active: Annotated[str, Form()] = "",
) -> HTMLResponse:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    if user.id == caller.user_id:
        raise Forbidden("you cannot deactivate your own account")
    user.active = active == "1"
    if not user.active:
        auth.end_access(session, user.id, now=runtime.clock.now())
    session.flush()
    return render(request, "settings.html", **_settings_context(session, caller))
