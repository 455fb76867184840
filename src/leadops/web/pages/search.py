"""The search box in the header of every page: the leads a query finds, best first."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from leadops.rules.service import active_rules
from leadops.search import KEY_LENGTH, search_leads
from leadops.web.deps import RuntimeDep, SessionDep
from leadops.web.render import N_, locale_of, render, status_labels
from leadops.web.security import Reader

router = APIRouter(include_in_schema=False)

#: How many matches the results page shows (the lead list has the rest, filtered).
RESULTS = 50
#: What a match was found by, as the results say it.
FOUND_BY = {
    "email": N_("E-mail"),
    "name": N_("Name"),
    "kana": N_("Kana"),
    "company": N_("Company"),
    "phone": N_("Phone"),
}


@router.get("/search", response_class=HTMLResponse)
def search_page(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    caller: Reader,
    q: Annotated[str, Query(max_length=KEY_LENGTH)] = "",
) -> HTMLResponse:
    hits = search_leads(session, q, limit=RESULTS) if q.strip() else []
    rules = active_rules(session, runtime.clock.now())
    return render(
        request,
        "search.html",
        q=q,
        hits=hits,
        more=len(hits) == RESULTS,
        status_label=status_labels(rules, locale_of(request)),
        found_by=FOUND_BY,
        list_query=urlencode({"q": q, "all": "1"}),
    )
