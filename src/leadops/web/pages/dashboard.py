"""The dashboard: today's and this month's touches, connects and appointments against the month's
quota targets, for the signed-in person; a manager (or an admin) sees the members of the teams
they manage, one row each, and the team's total. Each cell shows the count against its target
(today's: the month's share of one business day) with a progress bar and the percentage; below,
a chart of attainment (the rep's own, or the team's) and, for a manager, the counts per member."""

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


def _percent(value: float | None) -> float | None:
    return round(100 * value, 1) if value is not None else None


def _bars(names: list[str], series: list[dict[str, Any]], *, percent: bool, label: int) -> Chart:
    """Bars by category; a category's label wraps at ``label`` pixels (every one is shown)."""
    axis: dict[str, Any] = {"type": "value", "minInterval": 1}
    if percent:
        axis["axisLabel"] = {"formatter": "{value}%"}
    return {
        "color": PALETTE,
        "animation": False,
        "tooltip": {"trigger": "axis"},
        "legend": {"bottom": 0},
        "grid": {"left": 10, "right": 20, "top": 20, "bottom": 50, "containLabel": True},
        "xAxis": {
            "type": "category",
            "data": names,
            "axisLabel": {"interval": 0, "overflow": "break", "width": label},
        },
        "yAxis": axis,
        "series": [{"type": "bar", **s} for s in series],
    }


def attainment_chart(subject: Tally, t: Translator) -> Chart:
    """Today's and this month's attainment (%) of each measure: the rep's own, or the team's;
    no bar where no target is set."""
    names = [t.gettext(LABELS[m]) for m in MEASURES]
    series = [
        {
            "name": t.gettext("Today"),
            "data": [_percent(subject.today_attainment(m)) for m in MEASURES],
        },
        {
            "name": t.gettext("This month"),
            "data": [_percent(subject.attainment(m)) for m in MEASURES],
        },
    ]
    return _bars(names, series, percent=True, label=96)


def members_chart(tallies: list[Tally], t: Translator) -> Chart:
    """This month's counts per member, one bar per measure."""
    series = [
        {"name": t.gettext(LABELS[m]), "data": [x.month[m] for x in tallies]} for m in MEASURES
    ]
    return _bars([x.name for x in tallies], series, percent=False, label=64)


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
        attainment_chart=attainment_chart(total or tallies[0], t),
        members_chart=members_chart(tallies, t) if total else None,
    )
