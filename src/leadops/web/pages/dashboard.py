"""The dashboard: today's and this month's touches, connects and appointments against the month's
quota targets, for the signed-in person; a manager (or an admin) sees the members of the teams
they manage, one row each, and the team's total. One bar chart beside the table."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from leadops.cadence.quotas import settable
from leadops.models import User
from leadops.reports.dashboard import MEASURES, Tally, dashboard
from leadops.web.charts import PALETTE, Chart
from leadops.web.deps import RuntimeDep, SessionDep
from leadops.web.i18n import Translator
from leadops.web.render import N_, render, translator
from leadops.web.security import Reader

router = APIRouter(include_in_schema=False)
LABELS = {"touches": N_("Touches"), "connects": N_("Connects"), "appointments": N_("Appointments")}


def _people(session: Session, caller_id: int) -> tuple[list[tuple[int, str]], list[int]]:
    """Whose numbers the caller sees: the reps (role member) of the teams they manage (a manager,
    an admin) and the teams; else only their own."""
    actor = session.get_one(User, caller_id)
    teams, members = settable(session, actor)
    reps = [u for u in members if u.role == "member"]
    if actor.role in ("manager", "admin") and reps:
        ids = {t.id for t in teams}
        # A team's quota covers its sub-teams (as in kpis' attainment): the top teams' count.
        tops = [t.id for t in teams if t.parent_id not in ids]
        return [(u.id, u.name or u.email or str(u.id)) for u in reps], tops
    return [(actor.id, actor.name or actor.email or str(actor.id))], []


def chart_of(tallies: list[Tally], t: Translator) -> Chart:
    """This month's counts per person as bars, the appointment target as a bar beside them."""
    series: list[dict[str, Any]] = [
        {"type": "bar", "name": t.gettext(LABELS[m]), "data": [x.month[m] for x in tallies]}
        for m in MEASURES
    ]
    series.append(
        {
            "type": "bar",
            "name": t.gettext("Appointment target"),
            "data": [x.targets.get("appointments") for x in tallies],
            "itemStyle": {"opacity": 0.45},
        }
    )
    return {
        "color": PALETTE,
        "animation": False,
        "tooltip": {"trigger": "axis"},
        "legend": {"bottom": 0},
        "grid": {"left": 10, "right": 20, "top": 20, "bottom": 50, "containLabel": True},
        "xAxis": {
            "type": "category",
            "data": [x.name for x in tallies],
            "axisLabel": {"interval": 0},
        },
        "yAxis": {"type": "value", "minInterval": 1},
        "series": series,
    }


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard_page(
    request: Request, session: SessionDep, runtime: RuntimeDep, caller: Reader
) -> HTMLResponse:
    t = translator(request)
    people, teams = _people(session, caller.user_id)
    window, tallies, total = dashboard(
        session, people, now=runtime.clock.now(), tz=runtime.settings.tz, team_ids=teams
    )
    return render(
        request,
        "dashboard.html",
        window=window,
        tallies=tallies,
        total=total,
        measures=MEASURES,
        labels=LABELS,
        chart=chart_of(tallies, t),
    )
