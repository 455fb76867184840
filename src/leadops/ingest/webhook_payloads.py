"""What each kind of webhook source sends, read into events: the lead's fields (those of
``PUT /api/v1/leads``) and an activity (an item of ``POST /api/v1/activities``).

- ``generic``: one item of ``POST /api/v1/activities``, with the lead's fields under ``lead``.
- ``form``: a form tool's submission, flat JSON or form-encoded (``email``, ``name`` or ``姓`` and
  ``名``, ``company`` / ``会社名``, ``message`` …): the lead's fields and a ``form_submit``
  activity (``form: inquiry`` unless the submission names its form).
- ``hubspot``: HubSpot's array of events. Contact creations and property changes update the
  lead whose HubSpot id (``objectId``) they name; a new conversion
  (``recent_conversion_event_name``) is also a ``form_submit``; deletions, merges and other
  objects' events are acknowledged and ignored. docs/webhooks.md has the whole table.

Reading is pure: a body and the time it came in, events out. A body that cannot be read at all is
an error; a bad event is one with ``errors``, refused alone.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from leadops.errors import FieldError, LeadopsError, ValidationFailed
from leadops.ingest.prefectures import find_prefecture

#: HubSpot's contact ids are leads' external ids from this system (as its exports' Record ID).
HUBSPOT_CRM = "hubspot"
HUBSPOT_CONVERSION = "recent_conversion_event_name"
#: HubSpot contact properties that are lead fields; any other property is a custom field.
HUBSPOT_FIELDS = {
    "email": "email",
    "firstname": "first_name",
    "lastname": "last_name",
    "company": "company",
    "jobtitle": "title",
    "phone": "phone",
    "website": "domain",
    "numberofemployees": "employees",
    "industry": "industry",
}
#: HubSpot contact events that change nothing in leadops (its history is kept).
HUBSPOT_IGNORED = ("deletion", "privacyDeletion", "merge", "restore", "associationChange")
_LATEST_MS = int(datetime(2100, 1, 1, tzinfo=UTC).timestamp() * 1000)


class UnreadableBody(LeadopsError):
    """The body is not JSON (or not form-encoded text) at all: where it stops being readable."""

    def __init__(self, code: str, message: str, **where: int) -> None:
        super().__init__(message, detail={"message": message, **where})
        self.code = code


@dataclass
class Event:
    """One event of a delivery, as leadops will take it."""

    index: int
    #: What the sender sent for it (kept with a refusal).
    raw: Any
    #: The sender's id for it: an event sent again with the same id is taken once.
    event_id: str | None = None
    lead: dict[str, Any] | None = None
    activity: dict[str, Any] | None = None
    #: Why it changes nothing (a HubSpot deletion), if so.
    ignored: str | None = None
    errors: list[FieldError] = field(default_factory=list)
    #: The payload's own path of a field (``lead.email`` → ``メールアドレス``), where it is not
    #: the prefix and the name.
    paths: dict[str, str] = field(default_factory=dict)
    lead_prefix: str = "lead."
    activity_prefix: str = ""

    def path(self, part: str, name: str) -> str:
        """Where the sender put the lead's (``part="lead"``) or the activity's field ``name``."""
        prefix = self.lead_prefix if part == "lead" else self.activity_prefix
        return self.paths.get(f"{part}.{name}", prefix + name)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def read_json(body: bytes) -> Any:
    """The JSON document of ``body``; :class:`UnreadableBody` says where it stops being JSON."""
    try:
        return json.loads(body, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        message = f"request body is not valid JSON: {exc.msg}"
        raise UnreadableBody("invalid_json", message, line=exc.lineno, column=exc.colno) from None
    except UnicodeDecodeError as exc:
        message = f"request body is not UTF-8 text: byte {exc.start + 1} cannot be decoded"
        raise UnreadableBody("invalid_json", message) from None
    except RecursionError:
        raise UnreadableBody("invalid_json", "request body is nested too deeply") from None
    except ValueError as exc:
        raise UnreadableBody("invalid_json", f"request body is not valid JSON: {exc}") from None


_KINDS: dict[type, str] = {list: "a list", dict: "an object", str: "text"}


def _kind(value: object) -> str:
    return _KINDS.get(type(value), type(value).__name__)


def _id_text(value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    return str(value).strip() or None


# --- generic -------------------------------------------------------------------------------------


def generic_events(
    body: bytes, content_type: str, source: str, received_at: datetime
) -> list[Event]:
    item = read_json(body)
    if not isinstance(item, dict):
        raise ValidationFailed(
            [
                FieldError(
                    "body",
                    "expected one activity as a JSON object (an item of POST /api/v1/activities), "
                    f"got {_kind(item)}",
                )
            ]
        )
    activity = {k: v for k, v in item.items() if k != "lead"}
    lead = item.get("lead")
    if lead is not None and not isinstance(lead, dict):
        message = (
            f"expected an object of the lead's fields (as PUT /api/v1/leads), got {_kind(lead)}"
        )
        return [Event(0, item, errors=[FieldError("lead", message)])]
    if isinstance(lead, dict):
        lead = _identified(dict(lead), activity, source)
    return [Event(0, item, _id_text(item.get("external_id")), lead, activity)]


def _identified(lead: dict[str, Any], activity: dict[str, Any], source: str) -> dict[str, Any]:
    """The lead's fields, with the activity's lead where the lead names none (and the other way
    round), and this source as where its data came from unless it says."""
    if not (lead.get("email") or lead.get("external_id")):
        if activity.get("email"):
            lead["email"] = activity["email"]
        elif activity.get("lead_external_id"):
            lead["external_id"] = activity["lead_external_id"]
            lead.setdefault("crm_source", activity.get("lead_source"))
    if not (activity.get("email") or activity.get("lead_external_id")):
        if lead.get("email"):
            activity["email"] = lead["email"]
        elif lead.get("external_id"):
            activity["lead_external_id"] = lead["external_id"]
            activity["lead_source"] = lead.get("crm_source")
    if not lead.get("source"):
        lead["source"] = activity.get("source") or source
    return lead


# --- form ----------------------------------------------------------------------------------------

_FORM_LEAD = {
    "email": (
        "email",
        "e_mail",
        "mail",
        "email_address",
        "mail_address",
        "メールアドレス",
        "メール",
    ),
    "full_name": ("name", "full_name", "fullname", "your_name", "氏名", "お名前", "名前"),
    "last_name": ("last_name", "lastname", "family_name", "surname", "姓", "名字", "苗字"),
    "first_name": ("first_name", "firstname", "given_name", "名"),
    "company": ("company", "company_name", "organization", "会社名", "企業名", "貴社名", "御社名"),
    "department": ("department", "dept", "部署", "部署名", "所属"),
    "title": ("title", "job_title", "jobtitle", "position", "役職", "役職名"),
    "phone": ("phone", "tel", "telephone", "phone_number", "電話番号", "電話"),
    "prefecture": ("prefecture", "都道府県"),
}
_FORM_ACTIVITY = {
    "message": ("message", "inquiry", "comment", "comments", "お問い合わせ内容", "問い合わせ内容"),
    "form": ("form", "form_name"),
    "occurred_at": ("submitted_at", "occurred_at", "created_at", "timestamp", "送信日時"),
    "external_id": ("id", "submission_id", "entry_id", "response_id", "event_id", "external_id"),
    "campaign": ("campaign", "utm_campaign"),
}


def _form_key(name: str) -> str:
    return unicodedata.normalize("NFKC", name).strip().lower().replace("-", "_").replace(" ", "_")


_FORM_NAMES = {
    _form_key(alias): (part, name)
    for part, table in (("lead", _FORM_LEAD), ("activity", _FORM_ACTIVITY))
    for name, aliases in table.items()
    for alias in aliases
}


def _form_fields(body: bytes, content_type: str) -> dict[str, Any]:
    media, _, params = content_type.partition(";")
    if media.strip().lower() != "application/x-www-form-urlencoded":
        submission = read_json(body)
        if not isinstance(submission, dict):
            message = f"expected the submission as one flat JSON object, got {_kind(submission)}"
            raise ValidationFailed([FieldError("body", message)])
        return submission
    charset = "utf-8"
    for param in params.split(";"):
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip('"')
    try:
        pairs = parse_qsl(body.decode("ascii"), keep_blank_values=True, encoding=charset)
    except (UnicodeDecodeError, LookupError) as exc:
        message = f"request body is not form-encoded {charset} text: {exc}"
        raise UnreadableBody("invalid_form", message) from None
    fields: dict[str, Any] = {}
    for key, value in pairs:
        before = fields.get(key)
        fields[key] = value if before is None else [*_listed(before), value]
    return fields


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _text(value: Any) -> str | None:
    """A form's answer as text: several answers joined, numbers as written."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def form_events(body: bytes, content_type: str, source: str, received_at: datetime) -> list[Event]:
    submission = _form_fields(body, content_type)
    lead: dict[str, Any] = {"source": source}
    found: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    paths: dict[str, str] = {}
    for key, value in submission.items():
        part_name = _FORM_NAMES.get(_form_key(str(key)))
        if part_name is None:
            extra[str(key)] = value
            continue
        part, name = part_name
        (lead if part == "lead" else found)[name] = _text(value) if part == "lead" else value
        paths[f"{part}.{name}"] = str(key)
    event_id = _id_text(found.get("external_id")) or ("sha256:" + hashlib.sha256(body).hexdigest())
    properties: dict[str, Any] = {"form": _text(found.get("form")) or "inquiry"}
    if found.get("message") not in (None, ""):
        properties["message"] = _text(found["message"])
    if extra:
        properties["fields"] = extra
    activity = {
        "email": lead.get("email"),
        "type": "form_submit",
        "occurred_at": found.get("occurred_at") or received_at.isoformat(),
        "properties": properties,
        "source": source,
        "external_id": event_id,
        "campaign": _text(found.get("campaign")),
    }
    paths["activity.email"] = paths.get("lead.email", "email")
    return [Event(0, submission, event_id, lead, activity, paths=paths, lead_prefix="")]


# --- HubSpot -------------------------------------------------------------------------------------


def hubspot_events(
    body: bytes, content_type: str, source: str, received_at: datetime
) -> list[Event]:
    payload = read_json(body)
    if isinstance(payload, dict):
        payload = [payload]
    if not isinstance(payload, list):
        message = f"expected HubSpot's array of events, got {_kind(payload)}"
        raise ValidationFailed([FieldError("body", message)])
    events = [_hubspot_event(index, raw, source) for index, raw in enumerate(payload)]
    # Applied in the order they happened (HubSpot does not promise to send them in it).
    return sorted(events, key=lambda e: (_occurred_ms(e.raw) or 0, e.index))


def _occurred_ms(raw: Any) -> int | None:
    value = raw.get("occurredAt") if isinstance(raw, dict) else None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < _LATEST_MS:
        return None
    return value


def _hubspot_event(index: int, raw: Any, source: str) -> Event:
    where = f"[{index}]"
    event = Event(index, raw, lead_prefix=f"{where}.", activity_prefix=f"{where}.")
    event.paths = {
        "activity.occurred_at": f"{where}.occurredAt",
        "lead.created_at": f"{where}.occurredAt",
    }
    if not isinstance(raw, dict):
        event.errors.append(FieldError(where, f"expected an event object, got {_kind(raw)}"))
        return event
    event.event_id = _id_text(raw.get("eventId"))
    kind = raw.get("subscriptionType")
    object_id = _id_text(raw.get("objectId"))
    occurred = _occurred_ms(raw)
    if not isinstance(kind, str) or not kind:
        event.errors.append(
            FieldError(f"{where}.subscriptionType", "missing: e.g. contact.creation")
        )
        return event
    thing, _, action = kind.partition(".")
    if thing == "object":
        thing = (
            "contact" if raw.get("objectTypeId") == "0-1" else f"object {raw.get('objectTypeId')}"
        )
    if (
        thing != "contact"
        or action in HUBSPOT_IGNORED
        or action not in ("creation", "propertyChange")
    ):
        event.ignored = f"{kind}: leadops takes contact creations and property changes only"
        return event
    if object_id is None:
        event.errors.append(FieldError(f"{where}.objectId", "missing: the contact's id"))
    if occurred is None:
        event.errors.append(
            FieldError(f"{where}.occurredAt", "expected milliseconds since 1970 (before 2100)")
        )
    if event.errors or object_id is None or occurred is None:
        return event
    at = datetime.fromtimestamp(occurred / 1000, UTC).isoformat()
    lead: dict[str, Any] = {"external_id": object_id, "crm_source": HUBSPOT_CRM}
    if action == "creation":
        event.lead = {**lead, "created_at": at, "source": source}
        return event
    event.lead = lead
    _hubspot_change(event, raw, where, at, source)
    return event


def _hubspot_change(event: Event, raw: dict[str, Any], where: str, at: str, source: str) -> None:
    assert event.lead is not None
    name, value = raw.get("propertyName"), raw.get("propertyValue")
    if not isinstance(name, str) or not name:
        event.errors.append(FieldError(f"{where}.propertyName", "missing: the property changed"))
        return
    if value in (None, ""):
        return  # a cleared property: an upsert never blanks a field
    target = HUBSPOT_FIELDS.get(name)
    if name == "state" and find_prefecture(value) is not None:
        target = "prefecture"
    if target is None:
        target, value = "custom", {name: value}
    event.lead[target] = value
    event.paths[f"lead.{target}"] = f"{where}.propertyValue"
    if name == HUBSPOT_CONVERSION:
        event.activity = {
            "lead_external_id": event.lead["external_id"],
            "lead_source": HUBSPOT_CRM,
            "type": "form_submit",
            "occurred_at": at,
            "properties": {"form": value[name] if isinstance(value, dict) else value},
            "source": source,
            "external_id": event.event_id,
        }


Reader = Callable[[bytes, str, str, datetime], list[Event]]
#: How each kind of source's body is read.
READERS: dict[str, Reader] = {
    "generic": generic_events,
    "form": form_events,
    "hubspot": hubspot_events,
}
