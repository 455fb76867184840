"""Server-rendered pages (Jinja2 + HTMX), one module per part of the app."""

from typing import Annotated

from fastapi import APIRouter
from fastapi.responses import RedirectResponse

from leadops.web.pages import (
    account,
    accounts,
    board,
    dashboard,
    followups,
    imports,
    leadbulk,
    leadedit,
    leads,
    repday,
    reports,
    rules,
    search,
    work,
)
from leadops.web.security import Principal, require

router = APIRouter(include_in_schema=False)
for module in (
    account,
    accounts,
    leads,
    leadbulk,
    work,
    leadedit,
    board,
    reports,
    rules,
    imports,
    search,
    repday,
    followups,
    dashboard,
):
    router.include_router(module.router)


@router.get("/")
def index(caller: Annotated[Principal, require("read")]) -> RedirectResponse:
    """Reps start at their queue; everyone else at the lead list."""
    return RedirectResponse("/queue" if caller.can("work") else "/leads", status_code=303)
