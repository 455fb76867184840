"""What the lead page and the queue show of follow-ups: the lead's open ones and the form to
schedule one (whom for, a date and time in the site's time zone), the rep's due today or overdue;
the refusals of the follow-up service in words the catalogs translate."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from leadops.auth import LeadScope
from leadops.cadence.tasks import assignable, open_tasks_of, open_tasks_of_lead
from leadops.errors import FieldError, ValidationFailed
from leadops.models import FollowUpTask, Lead, User
from leadops.web.i18n import N_, Translator
from leadops.web.security import Principal

#: The follow-up service's messages and the form's fields, for the catalogs (cadence/tasks.py).
WORDS = (
    N_("the due time has passed: choose a later time"),
    N_("the due time is more than two years ahead"),
    N_("a follow-up's note holds at most 500 characters"),
    N_("the follow-up was cancelled"),
    N_("the follow-up is done already"),
    N_("only its assignee, their manager or an admin closes a follow-up"),
    N_("an open follow-up with this due time and note is there already"),
    N_("expected a date (YYYY-MM-DD)"),
    N_("expected a time (HH:MM)"),
    N_("choose whom the follow-up is for"),
    N_("due_at"),
    N_("due_date"),
    N_("due_time"),
    N_("assignee"),
    N_("follow_up"),
)
#: The timeline's words for what happened to a follow-up.
TITLES = {
    "scheduled": N_("Follow-up scheduled"),
    "moved": N_("Follow-up moved"),
    "done": N_("Follow-up done"),
    "cancelled": N_("Follow-up cancelled"),
}
#: The time a new follow-up's form offers.
DEFAULT_TIME = time(10, 0)


def local_due(day: str, at: str, tz: tzinfo) -> datetime:
    """The moment of a date (YYYY-MM-DD) and a time (HH:MM) typed in ``tz``, in UTC."""
    problems = []
    try:
        on = date.fromisoformat(day.strip())
    except ValueError:
        problems.append(FieldError("due_date", "expected a date (YYYY-MM-DD)"))
    try:
        clock = time.fromisoformat(at.strip())
    except ValueError:
        problems.append(FieldError("due_time", "expected a time (HH:MM)"))
    if problems:
        raise ValidationFailed(problems)
    try:
        return datetime.combine(on, clock.replace(tzinfo=None), tzinfo=tz).astimezone(UTC)
    except OverflowError:  # 0001-01-01 00:00 in Tokyo is before the first UTC moment
        raise ValidationFailed([FieldError("due_date", "expected a date (YYYY-MM-DD)")]) from None


def end_of_today(now: datetime, tz: tzinfo) -> datetime:
    """The next local midnight after ``now``, in UTC."""
    tomorrow = now.astimezone(tz).date() + timedelta(days=1)
    return datetime.combine(tomorrow, time(), tzinfo=tz).astimezone(UTC)


def lead_follow_ups(
    session: Session, caller: Principal, lead: Lead, t: Translator, now: datetime
) -> dict[str, Any]:
    """The lead page's follow-ups: the open ones, and the form when the caller works the lead."""
    me = session.get_one(User, caller.user_id)
    may = caller.can("work") and LeadScope(session, me).allows(lead.owner_id, lead.team_id)
    local = now.astimezone(t.tz)
    return {
        "follow_ups": open_tasks_of_lead(session, lead.id),
        "may_schedule": may,
        "assignees": [(u.id, u.name) for u in assignable(session, me)] if may else [],
        "follow_up_day": (local.date() + timedelta(days=1)).isoformat(),
        "follow_up_time": DEFAULT_TIME.strftime("%H:%M"),
        "follow_up_min": local.date().isoformat(),
        "follow_up_titles": {k: t.gettext(v) for k, v in TITLES.items()},
    }


def queue_follow_ups(
    session: Session, caller: Principal, t: Translator, now: datetime
) -> dict[str, Any]:
    """The rep's open follow-ups due today or overdue (most overdue first), and how many later."""
    until = end_of_today(now, t.tz)
    later = session.scalar(
        select(func.count(FollowUpTask.id)).where(
            FollowUpTask.assignee_id == caller.user_id,
            FollowUpTask.state == "open",
            FollowUpTask.due_at >= until,
        )
    )
    return {
        "follow_ups": open_tasks_of(session, caller.user_id, due_before=until),
        "follow_ups_later": later or 0,
    }
