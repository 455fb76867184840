"""What the lead list's bulk actions show: whom the caller may hand leads to, the campaigns, and
an action's outcome — how many changed, and each refused lead by name with why — in the reader's
language."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadops.cadence.bulk import BulkOutcome, Refused, eligible_owners
from leadops.models import Campaign, User
from leadops.web.i18n import Translator
from leadops.web.render import N_
from leadops.web.security import Principal

#: The actions of the selection, with the permission each needs to be offered.
ACTIONS = (
    ("reassign", N_("Reassign to"), "manage"),
    ("status", N_("Change status to"), "work"),
    ("campaign", N_("Add to campaign"), "read"),
    ("export", N_("Export as CSV"), "read"),
)
REFUSALS = {
    "missing": N_("no such lead"),
    "transition": N_("%(from)s → %(to)s is not allowed"),
    "reassign": N_(
        "only an admin or the manager of the lead's team or of the new owner's team can"
    ),
    "scope_manager": N_("a manager works only on the leads of the teams they manage"),
    "scope": N_("the %(role)s role works only on its own leads"),
}


def bulk_context(session: Session, caller: Principal) -> dict[str, Any]:
    me = session.get_one(User, caller.user_id)
    return {
        "bulk_actions": [(a, label) for a, label, permission in ACTIONS if caller.can(permission)],
        "bulk_owners": [(u.id, u.name) for u in eligible_owners(session, me)],
        "campaigns": list(
            session.execute(select(Campaign.id, Campaign.name).order_by(Campaign.name)).all()
        ),
    }


def refusal_text(t: Translator, refused: Refused, role: str, labels: dict[str, str]) -> str:
    code = refused.code
    if code == "scope" and role == "manager":
        code = "scope_manager"
    text = REFUSALS[code]
    if code == "transition":
        before, after = refused.params["from"], refused.params["to"]
        values = {"from": labels.get(before, before), "to": labels.get(after, after)}
        return t.gettext(text, **values)
    return t.gettext(text, role=t.gettext(role))


def outcome_message(
    t: Translator, outcome: BulkOutcome, role: str, labels: dict[str, str]
) -> dict[str, Any]:
    """The outcome as the list shows it: a summary, and each refused lead with why."""
    summary = t.gettext(
        "%(changed)s changed, %(unchanged)s already so, %(refused)s refused.",
        changed=t.number(len(outcome.changed)),
        unchanged=t.number(len(outcome.unchanged)),
        refused=t.number(len(outcome.refused)),
    )
    refused = [(r.lead_id, r.name, refusal_text(t, r, role, labels)) for r in outcome.refused]
    return {"summary": summary, "refused": refused}
