"""Delivering the outbox: the in-app inbox, e-mail over SMTP and a JSON webhook, with retries.

Every notification is first an ``in_app`` row (the inbox shows it at once). The worker fans each one
out to the external channels configured (``LEADOPS_SMTP_HOST``, ``LEADOPS_WEBHOOK_URL``) as rows of
their own, then delivers those:

1. **claim** (one transaction): due rows are locked (``FOR UPDATE SKIP LOCKED`` on PostgreSQL),
   their attempt counted and their next attempt pushed one lease ahead — so no other worker takes
   them;
2. **send**, outside any transaction;
3. **record** (one transaction): sent, or the error and the next attempt after an exponential
   backoff (1, 2, 4 … minutes, at most an hour); after ``notify_max_attempts`` the row is given up,
   with its error.

The promise (docs/operations.md): a notification is never lost — it stays in the outbox until it is
recorded as sent or given up with its error — and it is delivered at least once. A worker that dies
after sending and before recording leaves the row claimed; when the lease runs out it is sent again,
with the same ``Message-ID`` / ``Idempotency-Key`` (the notification's id) and the attempt number,
so a receiver can tell the repeat from a new notification: never a silent duplicate.
"""

from __future__ import annotations

import json
import smtplib
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from leadops.clock import Clock, SystemClock
from leadops.config import Settings
from leadops.db import claim_rows, insert_for, run_in_transaction
from leadops.models import Notification, User
from leadops.models.base import table_of
from leadops.signing import signed_headers

SUBJECTS = {
    "lead_assigned": ("リードが割り当てられました", "A lead was assigned to you"),
    "lead_handed_over": ("リードが引き継がれました", "A lead was handed over to you"),
    "lead_handed_off": ("担当リードが他部署へ移りました", "Your lead moved to another team"),
    "lead_reassigned_away": ("担当リードが再割り当てされました", "Your lead was reassigned"),
    "manager_queue": ("担当者不在のリードがあります", "A lead is waiting in your queue"),
    "account_lead_assigned": (
        "担当企業のリードが割り当てられました",
        "A lead at your account was assigned",
    ),
    "routing_failed": ("リードを振り分けられません", "Leads cannot be routed"),
    "approach_request": ("アプローチ依頼", "Approach request"),
    "approach_due_soon": ("アプローチ期限が近づいています", "An approach request is due soon"),
    "approach_overdue": ("アプローチ期限を過ぎました", "An approach request is overdue"),
    "touch_due_soon": ("次のタッチ期限が近づいています", "The next touch is due soon"),
    "touch_overdue": ("タッチ期限を過ぎました", "A touch is overdue"),
    "escalation": ("期限超過のエスカレーション", "Escalation: a deadline was missed"),
    "sla_reassigned": ("未対応リードを再割り当てしました", "An untouched lead was reassigned"),
    "lead_recycled": ("リードをリサイクルしました", "A lead was recycled"),
    "opportunity_assigned": ("商談の担当になりました", "An opportunity was assigned to you"),
    "follow_up_due": ("フォローアップの予定時刻です", "A follow-up is due"),
    "follow_up_assigned": ("フォローアップを依頼されました", "A follow-up was scheduled for you"),
}


@dataclass
class DeliveryReport:
    fanned_out: int = 0
    sent: int = 0
    failed: int = 0
    given_up: int = 0


@dataclass(frozen=True)
class _Claimed:
    id: int
    channel: str
    address: str | None
    template: str
    payload: dict[str, Any]
    attempt: int
    locale: str


#: Sends one notification; the clock dates a signature at the moment of sending.
Sender = Callable[[Settings, _Claimed, Clock], None]


def subject_of(template: str, locale: str) -> str:
    ja, en = SUBJECTS.get(template, (template, template))
    return ja if locale == "ja" else en


def send_email(settings: Settings, item: _Claimed, clock: Clock) -> None:
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = item.address
    message["Subject"] = f"[leadops] {subject_of(item.template, item.locale)}"
    message["Message-ID"] = f"<notification-{item.id}@leadops>"
    message["X-Leadops-Attempt"] = str(item.attempt)
    message.set_content("\n".join(f"{k}: {v}" for k, v in item.payload.items()))
    assert settings.smtp_host is not None
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=20) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password or "")
        smtp.send_message(message)


def send_webhook(settings: Settings, item: _Claimed, clock: Clock) -> None:
    """POST the notification as JSON. With ``LEADOPS_WEBHOOK_SECRET`` it is signed as leadops'
    webhook sources sign theirs: ``X-Leadops-Timestamp`` (Unix seconds, when sent) and
    ``X-Leadops-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">``."""
    text = f"{subject_of(item.template, item.locale)}: {item.payload.get('email') or ''}"
    body = json.dumps(
        {
            "text": text.strip(),
            "notification": {
                "id": item.id,
                "template": item.template,
                "recipient": item.address,
                **item.payload,
            },
        },
        ensure_ascii=False,
        default=str,
    ).encode()
    headers = {
        "Content-Type": "application/json",
        "Idempotency-Key": f"notification-{item.id}",
        "X-Leadops-Attempt": str(item.attempt),
    }
    if settings.webhook_secret:
        headers.update(signed_headers(settings.webhook_secret, body, clock.now()))
    assert settings.webhook_url is not None
    request = urllib.request.Request(
        settings.webhook_url, data=body, headers=headers, method="POST"
    )
    with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310 (the URL is configuration)
        if response.status >= 300:
            raise OSError(f"webhook answered {response.status}")


SENDERS: dict[str, Sender] = {"email": send_email, "webhook": send_webhook}


def backoff(attempt: int) -> timedelta:
    return timedelta(minutes=min(60, 2 ** max(0, attempt - 1)))


def _claim_query(now: datetime, channels: tuple[str, ...], limit: int) -> Any:
    return (
        select(Notification)
        .where(
            Notification.channel.in_(channels),
            Notification.sent_at.is_(None),
            Notification.next_attempt_at.isnot(None),
            Notification.next_attempt_at <= now,
        )
        .order_by(Notification.next_attempt_at, Notification.id)
        .limit(limit)
    )


def fan_out(session: Session, settings: Settings, now: datetime, limit: int = 1000) -> int:
    """Mark due in-app notifications delivered and queue their e-mail and webhook copies."""
    rows = list(
        session.scalars(claim_rows(session, _claim_query(now, ("in_app",), limit), of=Notification))
    )
    if not rows:
        return 0
    emails = dict(
        session.execute(
            select(User.id, User.email).where(User.id.in_({r.recipient_id for r in rows}))
        ).all()
    )
    copies = []
    for row in rows:
        row.sent_at, row.attempts, row.next_attempt_at = now, row.attempts + 1, None
        targets = []
        if settings.smtp_host and emails.get(row.recipient_id):
            targets.append(("email", emails[row.recipient_id]))
        if settings.webhook_url:
            targets.append(("webhook", emails.get(row.recipient_id)))
        for channel, address in targets:
            copies.append(
                {
                    "recipient_id": row.recipient_id,
                    "channel": channel,
                    "address": address,
                    "template": row.template,
                    "payload": row.payload,
                    "created_at": now,
                    "next_attempt_at": now,
                    "attempts": 0,
                    "dedup_key": f"{row.dedup_key or row.id}:{channel}"[:300],
                }
            )
    if copies:
        session.execute(
            insert_for(session)(table_of(Notification)).on_conflict_do_nothing(
                index_elements=["dedup_key"]
            ),
            copies,
        )
    return len(rows)


def _claim(session: Session, settings: Settings, now: datetime, limit: int) -> list[_Claimed]:
    rows = list(
        session.scalars(
            claim_rows(session, _claim_query(now, tuple(SENDERS), limit), of=Notification)
        )
    )
    locales = dict(
        session.execute(
            select(User.id, User.locale).where(User.id.in_({r.recipient_id for r in rows}))
        ).all()
    )
    lease = timedelta(seconds=settings.notify_lease_seconds)
    claimed = []
    for row in rows:
        row.attempts += 1
        row.next_attempt_at = now + lease
        claimed.append(
            _Claimed(
                row.id,
                row.channel,
                row.address,
                row.template,
                dict(row.payload),
                row.attempts,
                locales.get(row.recipient_id, "ja"),
            )
        )
    return claimed


def _record(
    session: Session, settings: Settings, now: datetime, results: dict[int, str | None]
) -> tuple[int, int]:
    given_up = failed = 0
    for row in session.scalars(select(Notification).where(Notification.id.in_(results))):
        error = results[row.id]
        if error is None:
            row.sent_at, row.next_attempt_at, row.last_error = now, None, None
        elif row.attempts >= settings.notify_max_attempts:
            row.next_attempt_at, row.last_error = (
                None,
                f"given up after {row.attempts} attempts: {error}"[:2000],
            )
            given_up += 1
        else:
            row.next_attempt_at, row.last_error = now + backoff(row.attempts), error[:2000]
            failed += 1
    return failed, given_up


def deliver(
    factory: sessionmaker[Session],
    settings: Settings,
    now: datetime,
    *,
    limit: int = 500,
    senders: dict[str, Sender] | None = None,
    clock: Clock | None = None,
) -> DeliveryReport:
    """One delivery pass at ``now``: fan out the inbox, then claim, send and record external
    notifications. ``clock`` dates each signed webhook when it is sent (default: the system's
    clock, also when ``now`` is another time)."""
    report = DeliveryReport()
    report.fanned_out = run_in_transaction(factory, lambda s: fan_out(s, settings, now))
    claimed = run_in_transaction(factory, lambda s: _claim(s, settings, now, limit))
    if not claimed:
        return report
    use = senders or SENDERS
    sending_clock = clock or SystemClock()
    results: dict[int, str | None] = {}
    for item in claimed:
        try:
            use[item.channel](settings, item, sending_clock)
            results[item.id] = None
            report.sent += 1
        except Exception as exc:  # noqa: BLE001 (any failure of a remote system is a failed attempt)
            results[item.id] = f"{type(exc).__name__}: {exc}"
    report.failed, report.given_up = run_in_transaction(
        factory, lambda s: _record(s, settings, now, results)
    )
    return report


def unread_count(session: Session, user_id: int) -> int:
    """How many of a user's in-app notifications are unread (one COUNT over the recipient index)."""
    stmt = (
        select(func.count())
        .select_from(Notification)
        .where(
            Notification.recipient_id == user_id,
            Notification.channel == "in_app",
            Notification.read_at.is_(None),
        )
    )
    return session.scalar(stmt) or 0


def mark_all_read(session: Session, user_id: int, now: datetime) -> int:
    """Marks every unread in-app notification of a user read; how many were. Idempotent."""
    result = session.execute(
        update(Notification)
        .where(
            Notification.recipient_id == user_id,
            Notification.channel == "in_app",
            Notification.read_at.is_(None),
        )
        .values(read_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def inbox(
    session: Session, user_id: int, *, unread_only: bool = False, limit: int = 50
) -> list[dict[str, Any]]:
    """A user's in-app notifications, newest first."""
    stmt = select(Notification).where(
        Notification.recipient_id == user_id, Notification.channel == "in_app"
    )
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    rows = session.scalars(
        stmt.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)
    )
    return [
        {
            "id": n.id,
            "template": n.template,
            "payload": n.payload,
            "created_at": n.created_at,
            "read_at": n.read_at,
        }
        for n in rows
    ]
