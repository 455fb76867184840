"""Webhook sources: the systems that send live events to ``POST /api/v1/webhooks/{name}``, each
with a secret of its own; and the deliveries leadops refused.

A secret is shown once, when it is made (``add``, ``rotate``), and never again. A rotation keeps
the previous secret working for a grace period (24 hours by default), so that the sender can move
to the new one without a delivery refused in between.
"""

from __future__ import annotations

import re
import secrets as random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from leadops.errors import Conflict, FieldError, NotFound, ValidationFailed
from leadops.models import WebhookRefusal, WebhookSource
from leadops.normalize import text_problem

KINDS = ("generic", "hubspot", "form")
#: A source's name: what its URL ends with, also the activities' ``source`` (at most 40).
NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
#: Names a source may not have: paths of their own under /api/v1/webhooks.
RESERVED = frozenset({"refusals"})
DEFAULT_GRACE = timedelta(hours=24)
SECRET_LENGTH = (16, 200)
PATH = "/api/v1/webhooks/{name}"


@dataclass(frozen=True)
class Issued:
    """A source with the secret just made or given: the one time the secret is shown."""

    name: str
    kind: str
    secret: str
    path: str
    previous_valid_until: datetime | None = None


def new_secret() -> str:
    return "whsec_" + random.token_urlsafe(32)


def _check_name(name: str) -> str:
    if NAME.fullmatch(name) is None:
        raise ValidationFailed(
            [
                FieldError(
                    "name",
                    f"{name[:60]!r} is not a source name: 1-40 lower-case letters, digits, - "
                    "and _, beginning with a letter or digit (it ends the webhook's URL)",
                )
            ]
        )
    if name in RESERVED:
        raise ValidationFailed([FieldError("name", f"{name!r} is reserved; choose another name")])
    return name


def _check_secret(secret: str | None, kind: str) -> str:
    if secret is None:
        if kind == "hubspot":
            raise ValidationFailed(
                [
                    FieldError(
                        "secret",
                        "a hubspot source checks HubSpot's signature with your app's client secret "
                        "(HubSpot app settings → Auth): give it on standard input (--secret-stdin)",
                    )
                ]
            )
        return new_secret()
    value = secret.strip()
    least, most = SECRET_LENGTH
    problem = text_problem(value, most)
    if problem is None and any(c.isspace() or not c.isprintable() for c in value):
        problem = "has a space or a control character"
    if problem is None and len(value) < least:
        problem = f"is {len(value)} characters long; at least {least}"
    if problem is not None:
        raise ValidationFailed([FieldError("secret", f"the secret {problem}")])
    return value


def find_source(session: Session, name: str) -> WebhookSource:
    source = session.scalar(select(WebhookSource).where(WebhookSource.name == name))
    if source is None:
        raise NotFound(f"no webhook source {name!r} (`leadops webhooks list` shows them)")
    return source


def add_source(
    session: Session, name: str, *, kind: str, now: datetime, secret: str | None = None
) -> Issued:
    """A new source; its secret is made here unless given (a hubspot source's is HubSpot's)."""
    _check_name(name)
    if kind not in KINDS:
        raise ValidationFailed(
            [FieldError("kind", f"unknown kind {kind!r}; kinds are {', '.join(KINDS)}")]
        )
    if session.scalar(select(WebhookSource.id).where(WebhookSource.name == name)) is not None:
        raise Conflict(
            f"a webhook source named {name!r} exists; `leadops webhooks rotate {name}` gives it a "
            "new secret"
        )
    value = _check_secret(secret, kind)
    session.add(WebhookSource(name=name, kind=kind, secret=value, created_at=now))
    session.flush()
    return Issued(name, kind, value, PATH.format(name=name))


def rotate_source(
    session: Session,
    name: str,
    *,
    now: datetime,
    grace: timedelta = DEFAULT_GRACE,
    secret: str | None = None,
) -> Issued:
    """A new secret for the source; the one it replaces is still accepted for ``grace`` (none
    when zero). Rotating again within the grace period ends the older secret at once."""
    if grace < timedelta(0):
        raise ValidationFailed([FieldError("grace", "must not be negative")])
    source = find_source(session, name)
    value = _check_secret(secret, source.kind)
    keep = grace > timedelta(0)
    source.previous_secret = source.secret if keep else None
    source.previous_valid_until = now + grace if keep else None
    source.secret, source.rotated_at = value, now
    return Issued(name, source.kind, value, PATH.format(name=name), source.previous_valid_until)


def remove_source(session: Session, name: str) -> None:
    """Remove the source: its URL answers 401 from now on. Its refusals are kept."""
    session.delete(find_source(session, name))


def secrets_of(source: WebhookSource, now: datetime) -> list[str]:
    """The secrets that verify a delivery at ``now``: the current one, and the previous one
    within its grace period."""
    valid = [source.secret]
    until = source.previous_valid_until
    if source.previous_secret and until is not None and now < until:
        valid.append(source.previous_secret)
    return valid


def describe_sources(session: Session, now: datetime) -> list[dict[str, Any]]:
    """Every source without its secret: kind, URL path, dates, and deliveries refused in the last
    24 hours."""
    since = now - timedelta(hours=24)
    refused = dict(
        session.execute(
            select(WebhookRefusal.source, func.count())
            .where(WebhookRefusal.at >= since)
            .group_by(WebhookRefusal.source)
        ).all()
    )
    return [
        {
            "name": source.name,
            "kind": source.kind,
            "path": PATH.format(name=source.name),
            "created_at": source.created_at,
            "rotated_at": source.rotated_at,
            "previous_secret_until": (
                source.previous_valid_until if len(secrets_of(source, now)) > 1 else None
            ),
            "last_used_at": source.last_used_at,
            "refused_24h": int(refused.get(source.name, 0)),
        }
        for source in session.scalars(select(WebhookSource).order_by(WebhookSource.name))
    ]


def refusals_of(
    session: Session, *, source: str | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """The latest refused deliveries (of one source), newest first."""
    stmt = select(WebhookRefusal)
    if source is not None:
        stmt = stmt.where(WebhookRefusal.source == source)
    rows = session.scalars(
        stmt.order_by(WebhookRefusal.at.desc(), WebhookRefusal.id.desc()).limit(limit)
    )
    return [
        {
            "id": row.id,
            "source": row.source,
            "known_source": row.source_id is not None,
            "at": row.at,
            "reason": row.reason,
            "detail": row.detail,
            "address": row.address,
            "body_kept": row.body is not None,
        }
        for row in rows
    ]
