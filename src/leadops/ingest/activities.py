"""Bulk ingestion of activities: validate, resolve leads (creating unknown ones), insert once.

Re-sending an event changes nothing: ``(source, external_id)`` is unique, and an event sent
without an id gets one derived from its content. Bad items are returned with the path of the bad
field; the good ones go in.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, tuple_

from leadops.db import chunked
from leadops.errors import FieldError
from leadops.ingest.bulk import insert_activity_rows
from leadops.ingest.context import IngestContext
from leadops.ingest.leads import LeadInput, LeadWriter
from leadops.lifecycle.door import Actor
from leadops.models import Activity, ActivityType, Campaign, Lead, column_length
from leadops.normalize import (
    check_not_future,
    in_utc,
    json_problem,
    normalize_email,
    scrub_text,
    text_problem,
)
from leadops.pipeline import process
from leadops.scoring.engine import ScoredActivity

ITEM_FIELDS = frozenset(
    {
        "email",
        "lead_external_id",
        "lead_source",
        "type",
        "occurred_at",
        "properties",
        "source",
        "external_id",
        "campaign",
        "channel",
    }
)
_CAMPAIGN_TYPE_BY_ACTIVITY = {
    "webinar_register": "webinar",
    "webinar_attend": "webinar",
    "webinar_no_show": "webinar",
    "tradeshow_attend": "tradeshow",
    "booth_visit": "tradeshow",
    "content_download": "content",
    "email_open": "email",
    "email_click": "email",
    "form_submit": "inquiry_form",
}


@dataclass
class ActivityIn:
    index: int
    email: str | None
    lead_key: tuple[str, str] | None
    type: str
    occurred_at: datetime
    properties: dict[str, Any]
    source: str
    external_id: str
    campaign: str | None
    channel: str | None
    #: Which batch of a group commit sent it (``ingest_activity_groups``).
    part: int = 0


@dataclass
class InsertedActivity:
    id: int
    lead_id: int
    type: str
    occurred_at: datetime
    properties: dict[str, Any]
    #: (source system, external id): what makes it the same event when sent again.
    key: tuple[str, str] = ("", "")


@dataclass
class Reject:
    index: int
    errors: list[FieldError]

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "errors": [e.as_dict() for e in self.errors]}


@dataclass
class BatchResult:
    accepted: int = 0
    duplicates: int = 0
    new_leads: int = 0
    rejected: list[Reject] = field(default_factory=list)
    inserted: list[InsertedActivity] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "new_leads": self.new_leads,
            "rejected": [r.as_dict() for r in self.rejected],
        }


def activity_types(ctx: IngestContext) -> frozenset[str]:
    cached = ctx.cache.get("activity_types")
    if cached is None:
        cached = frozenset(ctx.session.scalars(select(ActivityType.name)))
        ctx.cache["activity_types"] = cached
    return cached


def content_id(
    email: str | None, lead_key: tuple[str, str] | None, type_: str, at: datetime, props: Any
) -> str:
    """A stable id for an event sent without one, so that sending it twice records it once."""
    body = json.dumps([email, lead_key, type_, at.isoformat(), props], sort_keys=True, default=str)
    return "sha1:" + hashlib.sha1(body.encode("utf-8")).hexdigest()


def _parse_time(value: Any, ctx: IngestContext) -> datetime:
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] in "T ":
        try:  # the common ISO case, without the general parser's work
            at = datetime.fromisoformat(value)
        except ValueError:
            return ctx.parse_time(value)
        at = in_utc(at, ctx.tz, value)
        check_not_future(at, ctx.now, ctx.future_tolerance)
        return at
    return ctx.parse_time(value)


def validate_activity(
    item: Any,
    index: int,
    ctx: IngestContext,
    types: frozenset[str],
    *,
    path: str = "activities",
    default_source: str = "api",
) -> tuple[ActivityIn | None, list[FieldError]]:
    where = f"{path}[{index}]"
    if not isinstance(item, Mapping):
        return None, [FieldError(where, f"expected an object, got {type(item).__name__}")]
    errors: list[FieldError] = []
    unknown = [k for k in item if k not in ITEM_FIELDS]
    for key in unknown:
        errors.append(
            FieldError(
                f"{where}.{scrub_text(str(key))}",
                f"unknown field; fields are {sorted(ITEM_FIELDS)}",
            )
        )
    text = _TextReader(item, where, errors)
    email = text.read("email", TEXT_LENGTHS["email"], what="an e-mail address")
    if email is not None:
        try:
            email = normalize_email(email)
        except ValueError as exc:
            errors.append(FieldError(f"{where}.email", str(exc)))
            email = None
    lead_id = text.read("lead_external_id", TEXT_LENGTHS["lead_external_id"], ids=True)
    lead_source = text.read("lead_source", TEXT_LENGTHS["lead_source"])
    lead_key = (lead_source or "import", lead_id) if lead_id is not None else None
    if email is None and lead_key is None and not text.failed("email", "lead_external_id"):
        errors.append(
            FieldError(f"{where}.email", "missing: give the lead's email (or lead_external_id)")
        )
    type_ = item.get("type")
    if not isinstance(type_, str) or not type_:
        errors.append(FieldError(f"{where}.type", "missing: the activity type, e.g. form_submit"))
    elif type_ not in types:
        errors.append(
            FieldError(
                f"{where}.type", f"unknown activity type {type_!r}; known types: {sorted(types)}"
            )
        )
    occurred_at = None
    if item.get("occurred_at") in (None, ""):
        errors.append(FieldError(f"{where}.occurred_at", "missing: when the activity happened"))
    else:
        try:
            occurred_at = _parse_time(item["occurred_at"], ctx)
        except ValueError as exc:
            errors.append(FieldError(f"{where}.occurred_at", str(exc)))
    properties = item.get("properties")
    if properties is None:
        properties = {}
    elif not isinstance(properties, dict):
        errors.append(FieldError(f"{where}.properties", "expected an object"))
    elif (found := json_problem(properties, f"{where}.properties")) is not None:
        errors.append(FieldError(*found))
    source = text.read("source", TEXT_LENGTHS["source"]) or default_source
    external_id = text.read("external_id", TEXT_LENGTHS["external_id"], ids=True)
    campaign = text.read("campaign", TEXT_LENGTHS["campaign"], what="a campaign name")
    channel = text.read("channel", TEXT_LENGTHS["channel"], what="a channel name")
    if errors:
        return None, errors
    assert occurred_at is not None
    assert isinstance(type_, str)
    ext = external_id or content_id(email, lead_key, type_, occurred_at, properties)
    return (
        ActivityIn(
            index,
            email,
            lead_key,
            type_,
            occurred_at,
            properties,
            source,
            ext,
            campaign,
            channel,
        ),
        [],
    )


#: The longest text each field may hold: the sizes of the columns it is stored in.
TEXT_LENGTHS = {
    "email": column_length(Lead.email),
    "lead_external_id": column_length(Lead.crm_id),
    "lead_source": column_length(Lead.crm_source),
    "type": column_length(Activity.type),
    "source": column_length(Activity.source_system),
    "external_id": column_length(Activity.external_id),
    "campaign": column_length(Campaign.name),
    "channel": column_length(Activity.channel),
}


class _TextReader:
    """Reads the optional text fields of one item: blank is None; a value that is not a string
    (or, for ids, a whole number), holds what cannot be stored or is too long is None with a
    FieldError naming the field."""

    def __init__(self, item: Mapping[str, Any], where: str, errors: list[FieldError]) -> None:
        self.item = item
        self.where = where
        self.errors = errors

    def read(
        self, key: str, max_length: int, *, ids: bool = False, what: str = "a string"
    ) -> str | None:
        value = self.item.get(key)
        if value is None or value == "":
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int) if ids else str):
            expected = f"{what} or a whole number" if ids else what
            self.errors.append(
                FieldError(f"{self.where}.{key}", f"expected {expected}, got {_kind(value)}")
            )
            return None
        text = str(value)
        problem = text_problem(text, max_length)
        if problem is not None:
            self.errors.append(FieldError(f"{self.where}.{key}", problem))
            return None
        return text

    def failed(self, *keys: str) -> bool:
        paths = {f"{self.where}.{key}" for key in keys}
        return any(e.path in paths for e in self.errors)


def _kind(value: object) -> str:
    return {list: "a list", dict: "an object", bool: "true or false"}.get(
        type(value), type(value).__name__
    )


def ingest_activities(
    ctx: IngestContext,
    items: Sequence[Any],
    *,
    path: str = "activities",
    default_source: str = "api",
    first_index: int = 0,
) -> BatchResult:
    """Validate and store a batch. Unknown e-mails become new leads. Returns what happened."""
    return ingest_activity_groups(
        ctx, [items], path=path, default_source=default_source, first_index=first_index
    )[0]


def ingest_activity_groups(
    ctx: IngestContext,
    parts: Sequence[Sequence[Any]],
    *,
    path: str = "activities",
    default_source: str = "api",
    first_index: int = 0,
) -> list[BatchResult]:
    """Several batches (the API requests of one group commit) validated and stored as one: one
    lead lookup, one insert, one pass of the pipeline. Each part's result is what storing it
    alone, just after the parts before it, would have said: its rejects by its own indexes, an
    event another part sent first a duplicate, a new lead counted by the first part that names
    it."""
    results = [BatchResult() for _ in parts]
    types = activity_types(ctx)
    valid: list[ActivityIn] = []
    for number, items in enumerate(parts):
        for offset, item in enumerate(items):
            parsed, errors = validate_activity(
                item, first_index + offset, ctx, types, path=path, default_source=default_source
            )
            if parsed is None:
                results[number].rejected.append(Reject(first_index + offset, errors))
            else:
                parsed.part = number
                valid.append(parsed)
    if not valid:
        return results
    lead_ids, created, missing = _resolve_leads(ctx, valid)
    first_part: dict[str, int] = {}
    for item in valid:
        if item.email in created:
            first_part.setdefault(item.email, item.part)
    for number in first_part.values():
        results[number].new_leads += 1
    for item in valid:
        if (item.part, item.index) in missing:
            results[item.part].rejected.append(
                Reject(item.index, [missing[(item.part, item.index)]])
            )
    valid = [item for item in valid if (item.part, item.index) not in missing]
    campaign_ids = _resolve_campaigns(ctx, valid)
    rows = []
    part_of: dict[tuple[str, str], int] = {}
    for item in valid:
        key = (item.source, item.external_id)
        if key in part_of:
            results[item.part].duplicates += 1
            continue
        part_of[key] = item.part
        lead_id = lead_ids[item.email] if item.email else lead_ids[item.lead_key]
        rows.append(
            {
                "lead_id": lead_id,
                "type": item.type,
                "occurred_at": item.occurred_at,
                "received_at": ctx.now,
                "campaign_id": campaign_ids.get(item.campaign) if item.campaign else None,
                "channel": item.channel,
                "properties": item.properties,
                "source_system": item.source,
                "external_id": item.external_id,
            }
        )
    inserted = insert_activities(ctx, rows)
    new_keys: set[tuple[str, str]] = set()
    for activity in inserted:
        results[part_of[activity.key]].inserted.append(activity)
        new_keys.add(activity.key)
    for key, number in part_of.items():
        if key not in new_keys:
            results[number].duplicates += 1  # stored before: sent again
    for result in results:
        result.accepted = len(result.inserted)
        result.rejected.sort(key=lambda r: r.index)
    score_inserted(ctx, inserted)
    return results


def insert_activities(ctx: IngestContext, rows: list[dict[str, Any]]) -> list[InsertedActivity]:
    """Insert once: what comes back is what was new (a resent event is not)."""
    by_key = {(r["source_system"], r["external_id"]): r for r in rows}
    out = []
    for activity_id, source, external_id in insert_activity_rows(ctx.session, rows):
        row = by_key[(source, external_id)]
        out.append(
            InsertedActivity(
                activity_id,
                row["lead_id"],
                row["type"],
                row["occurred_at"],
                row["properties"],
                (source, external_id),
            )
        )
    return out


def score_inserted(ctx: IngestContext, inserted: list[InsertedActivity]) -> None:
    """Score what was new, move each lead's last activity, update levels and validity, route and
    open the approach requests (the pipeline)."""
    if not inserted:
        return
    by_lead: dict[int, list[ScoredActivity]] = {}
    for act in inserted:
        by_lead.setdefault(act.lead_id, []).append(
            ScoredActivity(act.id, act.type, act.occurred_at, act.properties)
        )
    process(
        ctx.session,
        ctx.rules(),
        ctx.now,
        sorted(by_lead),
        activities=by_lead,
        actor=Actor(ctx.actor_kind, ctx.actor_ref),
        routing=ctx.routing,
    )


def _resolve_leads(
    ctx: IngestContext, items: list[ActivityIn]
) -> tuple[dict[Any, int], set[str], dict[tuple[int, int], FieldError]]:
    """Lead ids by e-mail / external key; unknown e-mails become leads (returned too). Unknown
    external ids are errors, by (part, index) of the item."""
    session = ctx.session
    ids: dict[Any, int] = {}
    emails = sorted({i.email for i in items if i.email})
    for part in chunked(emails):
        for lead_id, email in session.execute(
            select(Lead.id, Lead.email).where(Lead.email.in_(part))
        ):
            ids[email] = lead_id
    keys = sorted({i.lead_key for i in items if i.lead_key})
    for start in range(0, len(keys), 400):
        stmt = select(Lead.id, Lead.crm_source, Lead.crm_id).where(
            tuple_(Lead.crm_source, Lead.crm_id).in_(keys[start : start + 400])
        )
        for lead_id, source, crm_id in session.execute(stmt):
            ids[(source, crm_id)] = lead_id
    missing: dict[tuple[int, int], FieldError] = {}
    for item in items:
        if item.email is None and item.lead_key not in ids:
            missing[(item.part, item.index)] = FieldError(
                f"activities[{item.index}].lead_external_id",
                f"no lead has external id {item.lead_key[1]!r} from {item.lead_key[0]!r}",  # type: ignore[index]
            )
    first_seen: dict[str, ActivityIn] = {}
    for item in items:
        if item.email and item.email not in ids:
            if (
                item.email not in first_seen
                or item.occurred_at < first_seen[item.email].occurred_at
            ):
                first_seen[item.email] = item
    if first_seen:
        _create_leads(ctx, first_seen)
        for part in chunked([e for e in emails if e in first_seen]):
            for lead_id, email in session.execute(
                select(Lead.id, Lead.email).where(Lead.email.in_(part))
            ):
                ids[email] = lead_id
    return ids, set(first_seen), missing


def _create_leads(ctx: IngestContext, first_seen: dict[str, ActivityIn]) -> None:
    """Leads first known through an activity: created at that activity; their 経路 (source) is
    the channel of that activity's campaign, else the channel the activity declares — never the
    name of the system that sent it."""
    writer = LeadWriter(ctx)
    channels = _campaign_channels(ctx, [i.campaign for i in first_seen.values() if i.campaign])
    inputs = [
        LeadInput(
            email=email,
            created_at=item.occurred_at,
            source=_channel_of(item, channels),
        )
        for email, item in first_seen.items()
    ]
    writer.preload(inputs)
    for lead_input in inputs:
        writer.upsert(lead_input)
    writer.record()  # scored with their activities, once those are in


def _channel_of(item: ActivityIn, channels: Mapping[str, str]) -> str | None:
    """A campaign's channel; a campaign this batch creates has the type its activity gives."""
    if item.campaign:
        return channels.get(item.campaign) or _CAMPAIGN_TYPE_BY_ACTIVITY.get(item.type, "other")
    return item.channel


def _campaign_channels(ctx: IngestContext, names: list[str]) -> dict[str, str]:
    """The channel of each named campaign (its type when it has no channel)."""
    found: dict[str, str] = {}
    for part in chunked(sorted(set(names))):
        for name, channel, kind in ctx.session.execute(
            select(Campaign.name, Campaign.channel, Campaign.type).where(Campaign.name.in_(part))
        ):
            found[name] = channel or kind
    return found


def _resolve_campaigns(ctx: IngestContext, items: list[ActivityIn]) -> dict[str, int]:
    names = {i.campaign: i.type for i in items if i.campaign}
    cache: dict[str, int] = ctx.cache.setdefault("campaigns", {})
    wanted = [n for n in names if n not in cache]
    if wanted:
        for campaign_id, name in ctx.session.execute(
            select(Campaign.id, Campaign.name).where(Campaign.name.in_(wanted))
        ):
            cache[name] = campaign_id
        for name in wanted:
            if name not in cache:
                campaign = Campaign(
                    name=name,
                    type=_CAMPAIGN_TYPE_BY_ACTIVITY.get(names[name], "other"),
                    created_at=ctx.now,
                )
                ctx.session.add(campaign)
                ctx.session.flush()
                cache[name] = campaign.id
    return {n: cache[n] for n in names}
