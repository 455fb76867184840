"""Rendering pages: the template environment, what every page knows (user, locale, CSRF token,
menu), and domain errors shown as a page, an HTMX message or a redirect to the sign-in page."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from leadops.delivery import unread_count
from leadops.errors import LeadopsError, NotSignedIn
from leadops.rules.loader import CompiledRules
from leadops.rules.service import active_rules
from leadops.runtime import Runtime
from leadops.web.error_words import saying
from leadops.web.i18n import DEFAULT_LOCALE, LOCALES, N_, Translator, negotiate
from leadops.web.security import CSRF_FIELD, Principal

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.trim_blocks = True
templates.env.lstrip_blocks = True
LANG_COOKIE = "leadops_lang"


#: The menu: (path, label, permission).
MENU = (
    ("/queue", N_("My queue"), "work"),
    ("/dashboard", N_("Dashboard"), "read"),
    ("/leads", N_("Leads"), "read"),
    ("/board", N_("Team board"), "manage"),
    ("/reports", N_("Reports"), "read"),
    ("/rules", N_("Rules"), "read"),
    ("/import", N_("Import"), "ingest"),
    ("/notifications", N_("Notifications"), "read"),
    ("/settings", N_("Settings"), "read"),
)


def status_labels(rules: CompiledRules, locale: str) -> dict[str, str]:
    """Each status of the rules with its label in ``locale``, in the rules' order."""
    return {s.name: s.label_ja if locale == "ja" else s.label_en for s in rules.document.statuses}


def _saying(request: Request, t: Translator) -> Any:
    """How the page says an error message: in its language, codes as words (error_words); the
    statuses' labels are read only when a message is said."""

    def labels() -> dict[str, str]:
        runtime: Runtime = request.app.state.runtime
        try:
            with runtime.factory() as session:
                return status_labels(active_rules(session, runtime.clock.now()), t.locale)
        except Exception:  # noqa: BLE001 - a page about an error renders even without rules
            return {}

    return saying(t, labels)


def principal_of(request: Request) -> Principal | None:
    return getattr(request.state, "principal", None)


def locale_of(request: Request) -> str:
    """The query's ?lang=, else the signed-in user's preference, else the cookie, else the
    browser's."""
    asked = request.query_params.get("lang")
    if asked in LOCALES:
        return asked
    principal = principal_of(request)
    if principal is not None and principal.locale in LOCALES:
        return principal.locale
    cookie = request.cookies.get(LANG_COOKIE)
    if cookie in LOCALES:
        return cookie
    return negotiate(request.headers.get("accept-language")) or DEFAULT_LOCALE


def translator(request: Request) -> Translator:
    runtime: Runtime = request.app.state.runtime
    return Translator(locale_of(request), runtime.settings.tz)


def render(
    request: Request, template: str, /, status_code: int = 200, **context: Any
) -> HTMLResponse:
    t = translator(request)
    principal = principal_of(request)
    menu = [
        (path, label)
        for path, label, permission in MENU
        if principal is not None and principal.can(permission)
    ]
    runtime: Runtime = request.app.state.runtime
    if principal is not None and "unread" not in context:
        with runtime.factory() as session:
            context["unread"] = unread_count(session, principal.user_id)
    base = {
        "_": t.gettext,
        "pgettext": t.pgettext,
        "say": _saying(request, t),
        "t": t,
        "locale": t.locale,
        "user": principal,
        "csrf_field": CSRF_FIELD,
        "csrf_token": principal.csrf_token if principal else context.pop("signin_csrf", ""),
        "menu": menu,
        "path": request.url.path,
        "now": runtime.clock.now(),
    }
    return templates.TemplateResponse(
        request, template, {**base, **context}, status_code=status_code
    )


def wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/")


def error_page(request: Request, exc: LeadopsError, status_code: int) -> Response:
    """A domain error on a page: to the sign-in page when not signed in; a message in place for
    HTMX; else an error page that says what was wrong."""
    if isinstance(exc, NotSignedIn):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.headers.get("hx-request") == "true":
            # Back to the page the action was sent from, never to the action's own URL (a
            # POST-only path that a GET after signing in would answer with 405).
            target = page_of(request.headers.get("hx-current-url"))
            return Response(
                status_code=204, headers={"HX-Redirect": f"/signin?next={quote(target)}"}
            )
        return RedirectResponse(f"/signin?next={quote(target)}", status_code=303)
    if request.headers.get("hx-request") == "true":
        response = render(request, "_refused.html", status_code=status_code, error=exc)
        response.headers["HX-Retarget"] = "#messages"
        response.headers["HX-Reswap"] = "innerHTML"
        # The form may select a part of its answer (hx-select="#lead-page"): the message is
        # all there is of this one.
        response.headers["HX-Reselect"] = "#refused"
        return response
    return render(request, "error.html", status_code=status_code, error=exc, status=status_code)


def page_of(url: str | None) -> str:
    """The local path and query of a page's URL (``HX-Current-URL``); ``/`` for anything else."""
    if not url:
        return "/"
    parts = urlsplit(url)
    path = parts.path or "/"
    if not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    return path + (f"?{parts.query}" if parts.query else "")
