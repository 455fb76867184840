"""The FastAPI application factory: API, pages, static files, error translation."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text

from leadops import __version__
from leadops.runtime import Runtime
from leadops.web import api, pages
from leadops.web.background import Runner, ThreadRunner
from leadops.web.errors import BodySizeLimit, install_error_handlers

STATIC_DIR = Path(__file__).parent / "static"


def create_app(runtime: Runtime | None = None, *, runner: Runner | None = None) -> FastAPI:
    """The app over ``runtime``; ``runner`` does the work requests leave running (imports): a
    thread per job unless a test gives one that runs them synchronously."""
    runtime = runtime or Runtime.create()
    app = FastAPI(
        title="leadops",
        version=__version__,
        description="Lead operations for B2B inside-sales teams.",
        docs_url="/api/docs",
        openapi_url="/api/openapi.json",
        redoc_url=None,
    )
    app.state.runtime = runtime
    app.state.runner = runner or ThreadRunner()
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=int(runtime.settings.max_upload_mb * 1_000_000))
    app.include_router(api.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        with runtime.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return {"status": "ok", "database": runtime.engine.dialect.name, "version": __version__}

    return app
