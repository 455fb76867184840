"""The FastAPI application factory: API, pages, static files, error translation, and the security
headers every response carries."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from leadops import __version__
from leadops.ingest.grouped import activity_writer
from leadops.runtime import Runtime
from leadops.web import (
    api,
    follow_ups_api,
    lead_edit_api,
    opportunities,
    pages,
    qualification,
    quotas,
    webhooks,
)
from leadops.web.background import Runner, ThreadRunner
from leadops.web.errors import BodySizeLimit, install_error_handlers
from leadops.web.render import templates

STATIC_DIR = Path(__file__).parent / "static"

#: The pages load scripts, styles, images and fonts only from this site (HTMX and ECharts are in
#: static/vendor): no inline script, no event-handler attribute, no eval, no framing. Styles are as
#: strict: the pages have no style attribute, HTMX's own indicator style is turned off
#: (base.html), and ECharts' SVG renderer sets its styles through the DOM (allowed by CSP).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; frame-ancestors 'none'; "
    "base-uri 'self'; form-action 'self'"
)
#: The API's documentation page is Swagger UI, served from the package's own static files (from
#: npm's swagger-ui-dist, with its licence) and set up in static/api-docs.js. Swagger UI's React
#: views write style attributes, so this one page, which shows nothing but the OpenAPI document,
#: allows inline styles; its scripts are this site's only, like every other page.
SWAGGER_UI = "/static/vendor/swagger-ui-bundle-5.35.0.js"
SWAGGER_CSS = "/static/vendor/swagger-ui-5.35.0.css"
DOCS_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; frame-ancestors 'none'; "
    "base-uri 'self'; form-action 'self'"
)
DOCS_PATH = "/api/docs"


def security_headers(path: str) -> list[tuple[bytes, bytes]]:
    """The headers that go with every response to ``path``."""
    policy = DOCS_CONTENT_SECURITY_POLICY if path == DOCS_PATH else CONTENT_SECURITY_POLICY
    return [
        (b"content-security-policy", policy.encode()),
        (b"x-frame-options", b"DENY"),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"same-origin"),
    ]


class SecurityHeaders:
    """Adds :func:`security_headers` to every HTTP response: pages, API, static files and errors."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = security_headers(scope["path"])
        names = {name for name, _ in extra}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                message = {**message, "headers": kept + extra}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class LeadopsApp(FastAPI):
    """FastAPI with :class:`SecurityHeaders` outside everything else, so that even the 500 of
    Starlette's outermost error middleware carries the headers."""

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeaders(super().build_middleware_stack())


def create_app(runtime: Runtime | None = None, *, runner: Runner | None = None) -> FastAPI:
    """The app over ``runtime``; ``runner`` does the work requests leave running (imports): a
    thread per job unless a test gives one that runs them synchronously."""
    runtime = runtime or Runtime.create()
    app = LeadopsApp(
        title="leadops",
        version=__version__,
        description="Lead operations for B2B inside-sales teams.",
        docs_url=None,
        openapi_url="/api/openapi.json",
        redoc_url=None,
    )
    app.state.runtime = runtime
    app.state.runner = runner or ThreadRunner()
    app.state.activity_writer = activity_writer(runtime.factory, runtime.settings, runtime.clock)
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=int(runtime.settings.max_upload_mb * 1_000_000))
    app.include_router(api.router)
    app.include_router(qualification.router)
    app.include_router(follow_ups_api.router)
    app.include_router(lead_edit_api.router)
    app.include_router(opportunities.router)
    app.include_router(quotas.router)
    app.include_router(webhooks.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get(DOCS_PATH, include_in_schema=False)
    def api_docs(request: Request) -> HTMLResponse:
        context = {
            "title": f"{app.title} - Swagger UI",
            "script": SWAGGER_UI,
            "stylesheet": SWAGGER_CSS,
            "openapi_url": app.openapi_url,
        }
        return templates.TemplateResponse(request, "api_docs.html", context)

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        with runtime.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return {"status": "ok", "database": runtime.engine.dialect.name, "version": __version__}

    return app
