"""The lead page's details form: its fields' labels, the edit service's messages in the reader's
language, and what the page needs to show the form and the timeline's field changes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadops.auth import LeadScope
from leadops.ingest.edit import CUSTOM, Problem
from leadops.models import Lead, User
from leadops.web.i18n import Translator
from leadops.web.render import N_
from leadops.web.security import Principal

#: The form's labels of the lead's details (the timeline names a changed field by these too).
FIELD_LABELS = {
    "last_name": N_("Last name"),
    "first_name": N_("First name"),
    "last_name_kana": N_("Last name (kana)"),
    "first_name_kana": N_("First name (kana)"),
    "company": N_("Company"),
    "department": N_("Department"),
    "title": N_("Job title"),
    "phone": N_("Phone"),
    "email": N_("E-mail"),
    "prefecture": N_("Prefecture"),
}
#: The edit service's messages (``ingest.edit.MESSAGES``), by code, marked for the catalogs.
EDIT_MESSAGES = {
    "unstorable": N_("%(problem)s"),
    "too_long": N_("is %(length)s characters long; the most is %(most)s"),
    "kana": N_("write the reading in katakana or hiragana (ヤマダ, やまだ); %(value)s is not"),
    "phone": N_("%(value)s is not a phone number (for example 03-1234-5678 or +1 415 555 0100)"),
    "email": N_("%(value)s is not an e-mail address"),
    "email_taken": N_("%(value)s is already the e-mail of lead %(id)s (%(name)s)"),
    "prefecture": N_("%(value)s is not a prefecture of Japan (for example 東京都, 大阪, 13)"),
    "identity": N_(
        "the lead would have nothing that identifies it: keep its e-mail, its phone, or a name "
        "with its company"
    ),
    "unknown": N_("unknown field; the fields are %(fields)s"),
    "custom_name": N_("give the custom field a name"),
    "custom_many": N_("at most %(most)s custom fields"),
}


def field_label(t: Translator, name: str) -> str:
    """A field's label: the form's, or a custom field's own name."""
    if name.startswith(CUSTOM):
        return name.removeprefix(CUSTOM)
    return t.gettext(FIELD_LABELS.get(name, name))


def problem_text(t: Translator, problem: Problem) -> str:
    return t.gettext(EDIT_MESSAGES[problem.code], **{k: str(v) for k, v in problem.params.items()})


def edit_context(
    session: Session, caller: Principal, lead: Lead, detail: dict[str, Any]
) -> dict[str, Any]:
    """What the lead page's details form needs: whether the caller may edit the lead, its custom
    fields, and the names of the people whose edits the timeline shows."""
    me = session.get_one(User, caller.user_id)
    ids = {
        int(ref)
        for e in detail["events"]
        if e["kind"] == "field" and (ref := e["actor"].removeprefix("user:")).isdigit()
    }
    names = dict(session.execute(select(User.id, User.name).where(User.id.in_(ids))).all())
    return {
        "may_edit": LeadScope(session, me).may_edit(lead.owner_id, lead.team_id),
        "custom_fields": sorted(
            (str(k), "" if v is None else str(v)) for k, v in (lead.custom or {}).items()
        ),
        "editors": {f"user:{i}": name for i, name in names.items()},
        "field_labels": FIELD_LABELS,
    }
