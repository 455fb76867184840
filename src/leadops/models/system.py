"""Rules versions, the notification outbox, and import jobs with their rejected rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from leadops.models.base import Base, BigId, Json, UTCDateTime


class RulesVersion(Base):
    __tablename__ = "rules_versions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    document: Mapped[str] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(String(320))
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    #: When every live lead had been rescored under this version (none while the worker still
    #: has leads scored under an earlier one).
    rescored_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Notification(Base):
    """The outbox: written in the same transaction as the change it reports, delivered later."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_pending", "sent_at", "next_attempt_at"),
        Index("ix_notifications_recipient", "recipient_id", "channel", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    channel: Mapped[str] = mapped_column(String(10))
    address: Mapped[str | None] = mapped_column(String(500))
    template: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    #: Makes "notify X about Y" idempotent across retried sweeps.
    dedup_key: Mapped[str | None] = mapped_column(String(300), unique=True)


class ImportJob(Base):
    """A file import: queued, running (claimed by a process with a lease), done or failed. Its
    file is kept (``ImportFile``) until it is done, so a job whose process died is resumed from
    its last committed chunk."""

    __tablename__ = "import_jobs"
    __table_args__ = (Index("ix_import_jobs_state_lease", "state", "lease_until"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    filename: Mapped[str | None] = mapped_column(String(500))
    file_sha256: Mapped[str | None] = mapped_column(String(64))
    mapping: Mapped[str | None] = mapped_column(String(500))
    encoding: Mapped[str | None] = mapped_column(String(20))
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(10), default="running")
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    rows_taken: Mapped[int] = mapped_column(Integer, default=0)
    rows_unchanged: Mapped[int] = mapped_column(Integer, default=0)
    rows_rejected: Mapped[int] = mapped_column(Integer, default=0)
    rows_flagged: Mapped[int] = mapped_column(Integer, default=0)
    actor: Mapped[str | None] = mapped_column(String(320))
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The mapping document, when it came as a file or an upload (a preset is named in mapping).
    mapping_text: Mapped[str | None] = mapped_column(Text)
    #: How to read the file: its encoding and sheet, when the user gave them.
    options: Mapped[dict[str, Any] | None] = mapped_column(Json)
    #: Rows read by the chunks committed so far: where a resumed job goes on.
    rows_done: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: The process working on the job (host:pid:nonce) and until when it holds it.
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resumes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class ImportFile(Base):
    """The file of an import job, as it was given, kept until the job is done."""

    __tablename__ = "import_files"

    job_id: Mapped[int] = mapped_column(
        ForeignKey("import_jobs.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(500))
    size: Mapped[int] = mapped_column(BigId)
    content: Mapped[bytes] = mapped_column(LargeBinary)


class ImportReject(Base):
    """A row that was not taken, with its number, its raw content and what was wrong."""

    __tablename__ = "import_rejects"
    __table_args__ = (Index("ix_import_rejects_job_row", "job_id", "row_number"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("import_jobs.id", ondelete="CASCADE"))
    row_number: Mapped[int] = mapped_column(Integer)
    raw: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    field: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str] = mapped_column(Text)


class ImportFlag(Base):
    """A row that was taken but looks wrong (e.g. a deal won before its lead's first contact)."""

    __tablename__ = "import_flags"
    __table_args__ = (Index("ix_import_flags_job_row", "job_id", "row_number"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("import_jobs.id", ondelete="CASCADE"))
    row_number: Mapped[int] = mapped_column(Integer)
    flag: Mapped[str] = mapped_column(String(100))
    message: Mapped[str] = mapped_column(Text)
    entity: Mapped[str | None] = mapped_column(String(100))


class ForecastModel(Base):
    """A learned forecast model, kept so that the forecast report does not replay the history each
    time. ``key`` names what it was learned from (the day, the closed statuses and a fingerprint of
    the history before the month); the worker learns the day's model once."""

    __tablename__ = "forecast_models"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(300), unique=True)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    body: Mapped[dict[str, Any]] = mapped_column(Json)
