"""Loading leads as the rules see them: a lead's columns and its fields (with its account,
owner, team and first campaign), locked for the unit of work that changes them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, Text, cast, select
from sqlalchemy.orm import Session, aliased

from leadops.db import (
    chunked,
    driver_fetchall,
    driver_json,
    driver_rows_by_ids,
    driver_time,
    json_loads,
)
from leadops.models import Account, Campaign, Lead, LeadPrediction, Opportunity, Team, User
from leadops.models.opportunities import CLOSED_STAGES
from leadops.normalize import is_free_mail

LEAD_COLUMNS = (
    "id",
    "email",
    "first_name",
    "last_name",
    "company",
    "title",
    "department",
    "phone",
    "prefecture",
    "region",
    "source",
    "status",
    "status_reason",
    "lifecycle_stage",
    "touch_stage",
    "score",
    "behavior_score",
    "fit_score",
    "level",
    "temperature",
    "is_valid",
    "created_at",
    "custom",
    "account_id",
    "group_scores",
    "score_state",
    "scored_version",
    "last_activity_at",
    "status_changed_at",
    "score_due_at",
    "owner_id",
    "team_id",
    "merged_into_id",
    "next_due_at",
    "assigned_at",
    "last_touch_at",
    "reminded_due_at",
    "escalated_due_at",
)


@dataclass
class LeadRow:
    values: dict[str, Any]  # the lead's columns (``score_state`` as its JSON text, or None)
    fields: dict[str, Any]  # what conditions see


def load_leads(session: Session, lead_ids: Sequence[int], *, lock: bool) -> dict[int, LeadRow]:
    """Leads with their account, owner, team and first campaign, locked on PostgreSQL in id order,
    so two writers never deadlock. The lock is FOR NO KEY UPDATE (what an UPDATE of non-key columns
    takes): it does not wait for the key-share locks that inserting activities (their foreign key)
    holds on a lead."""
    out: dict[int, LeadRow] = {}
    connection = session.connection()
    locked = lock and connection.dialect.name == "postgresql"
    for part in chunked(sorted(lead_ids), 500):
        # The ids are integers from the database, so they can be rendered into the statement
        # (built once); the rows come back from the driver untouched and are converted here once
        # (the hot path of ingest).
        result = driver_rows_by_ids(
            connection, ("load_leads", locked), lambda ids: _lead_select(ids, locked), part
        )
        sqlite = connection.dialect.name == "sqlite"
        # The statement's columns are the lead's (LEAD_COLUMNS), then the joined ones (JOINED).
        for raw in driver_fetchall(result):
            values = _convert(dict(zip(LEAD_COLUMNS, raw[:_LEADS], strict=True)), sqlite)
            out[values["id"]] = LeadRow(values, dict(zip(JOINED, raw[_LEADS:], strict=True)))
    open_opps = _accounts_with_open_opportunities(
        session, {r.values["account_id"] for r in out.values()}
    )
    for lead_row in out.values():
        fields = _fields(lead_row.values, open_opps)
        fields.update(lead_row.fields)
        lead_row.fields = fields
    return out


def _column(name: str) -> Any:
    """A lead column as the door reads it: the scoring state as its JSON text, decoded only by
    the scoring that continues from it (``scoring.service``), not by a rescore or a touch."""
    if name == "score_state":
        return cast(Lead.score_state, Text).label(name)
    return getattr(Lead, name)


def score_state_of(values: dict[str, Any]) -> Any:
    """A lead's scoring state from the door's values: the JSON text it read, decoded, or the state
    set since."""
    value = values["score_state"]
    return json_loads(value) if isinstance(value, str | bytes) else value


#: What conditions see of the lead's account, owner, team, first campaign and prediction, in the
#: order ``_lead_select`` reads them after the lead's own columns.
JOINED = (
    "account.name",
    "account.domain",
    "account.employees",
    "account.industry",
    "account.prefecture",
    "account.region",
    "account.owner",
    "owner",
    "team",
    "campaign",
    "prediction.probability",
)
_LEADS = len(LEAD_COLUMNS)


def _lead_select(ids: list[int], locked: bool) -> Select[Any]:
    owner, account_owner = aliased(User), aliased(User)
    stmt: Select[Any] = (
        select(
            *(_column(c) for c in LEAD_COLUMNS),
            *(
                column.label(name)
                for name, column in zip(
                    JOINED,
                    (
                        Account.name,
                        Account.domain,
                        Account.employees,
                        Account.industry,
                        Account.prefecture,
                        Account.region,
                        account_owner.email,
                        owner.email,
                        Team.name,
                        Campaign.name,
                        LeadPrediction.probability,
                    ),
                    strict=True,
                )
            ),
        )
        .outerjoin(Account, Account.id == Lead.account_id)
        .outerjoin(account_owner, account_owner.id == Account.owner_id)
        .outerjoin(owner, owner.id == Lead.owner_id)
        .outerjoin(Team, Team.id == Lead.team_id)
        .outerjoin(Campaign, Campaign.id == Lead.first_campaign_id)
        .outerjoin(LeadPrediction, LeadPrediction.lead_id == Lead.id)
        .where(Lead.id.in_(ids))
        .order_by(Lead.id)
    )
    return stmt.with_for_update(of=Lead, key_share=True) if locked else stmt


_TIMES = (
    "created_at",
    "last_activity_at",
    "status_changed_at",
    "score_due_at",
    "next_due_at",
    "assigned_at",
    "last_touch_at",
    "reminded_due_at",
    "escalated_due_at",
)
_JSONS = ("custom", "group_scores")


def _convert(row: dict[str, Any], sqlite: bool) -> dict[str, Any]:
    """Driver values as the models would give them: aware UTC datetimes, dicts, booleans."""
    if sqlite:
        for name in _TIMES:
            row[name] = driver_time(row[name])
        row["is_valid"] = bool(row["is_valid"])
    for name in _JSONS:
        value = row[name]
        row[name] = {} if value is None else driver_json(value)
    return row


def _accounts_with_open_opportunities(session: Session, account_ids: set[int | None]) -> set[int]:
    ids = sorted(a for a in account_ids if a is not None)
    found: set[int] = set()
    connection = session.connection()
    for part in chunked(ids, 500):
        rows = driver_rows_by_ids(connection, "open_opportunities", _open_opportunities, part)
        found.update(a for (a,) in rows if a is not None)
    return found


def _open_opportunities(ids: list[int]) -> Select[Any]:
    return (
        select(Opportunity.account_id)
        .where(Opportunity.account_id.in_(ids), Opportunity.stage.not_in(CLOSED_STAGES))
        .distinct()
    )


def _fields(values: dict[str, Any], open_opps: set[int]) -> dict[str, Any]:
    email = values.get("email")
    fields = dict(values)
    del fields["score_state"], fields["group_scores"]
    fields["email_domain"] = email.rsplit("@", 1)[1] if email else None
    fields["free_mail"] = bool(email) and is_free_mail(str(email))
    fields["has_company"] = bool(values.get("account_id") or values.get("company"))
    fields["account.has_open_opportunity"] = values.get("account_id") in open_opps
    return fields
