"""The outbox delivered to a real local SMTP server and a local webhook, with retries and a
crash."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes
from email.policy import default as email_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select
from sqlalchemy.orm import Session

import leadops.delivery
from leadops.clock import FixedClock
from leadops.config import Settings
from leadops.delivery import deliver, inbox
from leadops.models import Notification, User
from leadops.notify import Note, enqueue
from leadops.runtime import Runtime
from tests.conftest import NOW


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        self.messages.append(message_from_bytes(envelope.content, policy=email_policy))
        return "250 OK"


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box, port = Mailbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


class Hook:
    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.fail_next = 0
        #: The receiver's copy of LEADOPS_WEBHOOK_SECRET: unsigned or badly signed requests get 401.
        self.secret: str | None = None
        self.refused: list[str] = []

    def verifies(self, headers: Any, body: bytes) -> bool:
        """What a receiver does (docs/webhooks.md): HMAC-SHA256 of "<timestamp>.<body>"."""
        if self.secret is None:
            return True
        timestamp = headers.get("X-Leadops-Timestamp") or ""
        mac = hmac.new(self.secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
        given = headers.get("X-Leadops-Signature") or ""
        return timestamp.isdigit() and hmac.compare_digest(given, f"sha256={mac.hexdigest()}")


@pytest.fixture
def webhook() -> Iterator[tuple[Hook, int]]:
    hook, port = Hook(), free_port()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if hook.fail_next:
                hook.fail_next -= 1
                self.send_response(500)
            elif not hook.verifies(self.headers, body):
                hook.refused.append(self.headers.get("X-Leadops-Signature") or "")
                self.send_response(401)
            else:
                hook.requests.append((dict(self.headers), body))
                self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield hook, port
    server.shutdown()


def setup(runtime: Runtime, session: Session) -> int:
    user = User(email="rep@x.jp", name="Rep", role="member", locale="ja", created_at=NOW)
    session.add(user)
    session.flush()
    enqueue(
        session,
        [Note(user.id, "lead_assigned", "k1", {"lead_id": 1, "email": "buyer@kaisha.co.jp"})],
        NOW,
    )
    session.commit()
    return user.id


def settings_for(runtime: Runtime, mail_port: int, hook_port: int, **extra: Any) -> Settings:
    return Settings(
        database_url=runtime.settings.database_url,
        smtp_host="127.0.0.1",
        smtp_port=mail_port,
        webhook_url=f"http://127.0.0.1:{hook_port}/hook",
        webhook_secret="s3cret",
        **extra,
    )


def test_email_webhook_and_inbox(
    runtime: Runtime, session: Session, mailbox: Any, webhook: Any
) -> None:
    (box, mail_port), (hook, hook_port) = mailbox, webhook
    user_id = setup(runtime, session)
    settings = settings_for(runtime, mail_port, hook_port)
    hook.secret = "s3cret"
    report = deliver(runtime.factory, settings, NOW, clock=runtime.clock)
    assert (report.fanned_out, report.sent, report.failed) == (1, 2, 0)
    [mail] = box.messages
    assert mail["To"] == "rep@x.jp"
    assert "リードが割り当てられました" in mail["Subject"]
    [(headers, body)] = hook.requests  # verified by the receiver
    assert hook.refused == []
    assert headers["X-Leadops-Timestamp"] == str(int(NOW.timestamp()))
    assert json.loads(body)["notification"]["email"] == "buyer@kaisha.co.jp"
    ids = {n.channel: n.id for n in session.scalars(select(Notification))}
    assert mail["Message-ID"] == f"<notification-{ids['email']}@leadops>"
    assert headers["Idempotency-Key"] == f"notification-{ids['webhook']}"
    assert [n["template"] for n in inbox(session, user_id)] == ["lead_assigned"]
    again = deliver(runtime.factory, settings, NOW)
    assert (again.fanned_out, again.sent) == (0, 0)  # nothing twice
    assert len(box.messages) == 1
    assert len(hook.requests) == 1


def test_a_failing_webhook_is_retried_with_backoff_then_given_up(
    runtime: Runtime, session: Session, mailbox: Any, webhook: Any
) -> None:
    (box, mail_port), (hook, hook_port) = mailbox, webhook
    setup(runtime, session)
    hook.fail_next = 1
    settings = settings_for(runtime, mail_port, hook_port)
    first = deliver(runtime.factory, settings, NOW)
    assert (first.sent, first.failed) == (1, 1)  # the e-mail went, the webhook failed
    session.expire_all()
    row = session.scalar(select(Notification).where(Notification.channel == "webhook"))
    assert row is not None
    assert row.sent_at is None
    assert "500" in (row.last_error or "")
    assert row.next_attempt_at == NOW + timedelta(minutes=1)
    assert (
        deliver(runtime.factory, settings, NOW + timedelta(seconds=30)).sent == 0
    )  # not before the backoff
    assert deliver(runtime.factory, settings, NOW + timedelta(minutes=1)).sent == 1
    assert len(hook.requests) == 1
    assert len(box.messages) == 1

    recipient = row.recipient_id or 0
    session.rollback()  # end the read: on SQLite a transaction keeps its snapshot
    enqueue(session, [Note(recipient, "escalation", "k2", {"lead_id": 2})], NOW)
    session.commit()
    hook.fail_next = 99
    stubborn = settings_for(runtime, mail_port, hook_port, notify_max_attempts=2)
    deliver(runtime.factory, stubborn, NOW + timedelta(minutes=2))
    assert deliver(runtime.factory, stubborn, NOW + timedelta(minutes=4)).given_up == 1
    session.expire_all()
    gone = session.scalar(select(Notification).where(Notification.dedup_key == "k2:webhook"))
    assert gone is not None
    assert gone.next_attempt_at is None
    assert gone.last_error.startswith("given up")


def test_a_crash_between_sending_and_recording_resends_once_with_the_same_id(
    runtime: Runtime, session: Session, mailbox: Any, webhook: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    (box, mail_port), (_, hook_port) = mailbox, webhook
    setup(runtime, session)
    settings = settings_for(runtime, mail_port, hook_port, notify_lease_seconds=300)

    def crash(*args: Any) -> tuple[int, int]:
        raise RuntimeError("the worker died here")

    with monkeypatch.context() as patch:
        patch.setattr(leadops.delivery, "_record", crash)
        with pytest.raises(RuntimeError):
            deliver(runtime.factory, settings, NOW)
    assert len(box.messages) == 1  # sent, but never recorded as sent
    assert deliver(runtime.factory, settings, NOW + timedelta(minutes=1)).sent == 0  # still leased
    assert (
        deliver(runtime.factory, settings, NOW + timedelta(minutes=5)).sent == 2
    )  # lease over: sent again
    first, second = box.messages
    assert first["Message-ID"] == second["Message-ID"]  # the same notification, recognisably
    assert (first["X-Leadops-Attempt"], second["X-Leadops-Attempt"]) == ("1", "2")
    assert deliver(runtime.factory, settings, NOW + timedelta(minutes=30)).sent == 0
    assert len(box.messages) == 2


def test_a_webhook_is_signed_with_the_time_it_is_sent_which_a_receiver_checks(
    runtime: Runtime, session: Session, mailbox: Any, webhook: Any
) -> None:
    """``leadops worker --now`` sweeps as of another time, but signs when it sends: a receiver
    refuses a signature dated more than five minutes away from its own clock."""
    (_, mail_port), (hook, hook_port) = mailbox, webhook
    setup(runtime, session)
    hook.secret = "s3cret"
    settings = settings_for(runtime, mail_port, hook_port)
    sent_at = NOW + timedelta(days=3, seconds=17)
    report = deliver(runtime.factory, settings, NOW, clock=FixedClock(sent_at))
    assert (report.sent, report.failed) == (2, 0)  # the e-mail and the webhook
    [(headers, body)] = hook.requests
    assert headers["X-Leadops-Timestamp"] == str(int(sent_at.timestamp()))
    # The body alone, as leadops signed it before the timestamp, no longer verifies.
    assert headers["X-Leadops-Signature"] != (
        "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    )


def test_a_receiver_with_another_secret_refuses_the_webhook(
    runtime: Runtime, session: Session, mailbox: Any, webhook: Any
) -> None:
    (_, mail_port), (hook, hook_port) = mailbox, webhook
    setup(runtime, session)
    hook.secret = "not-the-same"
    settings = settings_for(runtime, mail_port, hook_port)
    report = deliver(runtime.factory, settings, NOW, clock=FixedClock(NOW))
    assert (report.sent, report.failed) == (1, 1)  # the e-mail went; the webhook was refused
    assert len(hook.refused) == 1
    assert hook.requests == []
