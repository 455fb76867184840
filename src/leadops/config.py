"""Settings: one typed object, read from the environment (``LEADOPS_*``) or a ``.env``-style file.

Build it with :func:`get_settings`; nothing reads the environment at import time.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LEADOPS_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///./leadops.db",
        description="SQLAlchemy URL of the store: sqlite:///path.db or "
        "postgresql+psycopg://user@host/db.",
    )
    read_database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of a PostgreSQL streaming replica of the store that reports "
        "(web, API, CLI) read from; unset, they read the store itself. Everything that writes "
        "uses database_url.",
    )
    timezone: str = Field(
        default="Asia/Tokyo",
        description="Time zone in which times are shown and naive input times are read.",
    )
    future_tolerance_hours: float = Field(
        default=24.0,
        description=(
            "An activity dated further than this into the future is rejected as a bad date."
        ),
    )
    max_batch_size: int = Field(
        default=10_000, description="Most activities accepted in one API batch request."
    )
    max_upload_mb: float = Field(
        default=25.0,
        description="Largest request body or uploaded file the web app accepts, in MB.",
    )
    import_chunk_size: int = Field(
        default=2_000, description="Rows written per transaction by file imports."
    )
    import_lease_seconds: float = Field(
        default=300.0,
        gt=0,
        description="How long an import job stays with its process without a committed chunk "
        "before a worker on another machine may resume it.",
    )
    date_order: str = Field(
        default="ymd",
        description=(
            "How to read all-number slash dates: ymd (2024/04/01), mdy (04/01/2024) or dmy."
        ),
    )

    smtp_host: str | None = Field(
        default=None, description="SMTP server for e-mail notifications; unset: no e-mail."
    )
    smtp_port: int = Field(default=25, description="SMTP port.")
    smtp_from: str = Field(
        default="leadops@localhost", description="Sender address of notification e-mails."
    )
    smtp_user: str | None = Field(
        default=None, description="SMTP user name, when the server needs a login."
    )
    smtp_password: str | None = Field(default=None, description="SMTP password.")
    smtp_starttls: bool = Field(
        default=False, description="Upgrade the SMTP connection with STARTTLS."
    )
    webhook_url: str | None = Field(
        default=None,
        description="URL that receives every notification as JSON (Slack-compatible); unset: none.",
    )
    webhook_secret: str | None = Field(
        default=None,
        description=(
            "Signs outgoing webhooks: X-Leadops-Timestamp (Unix seconds) and X-Leadops-Signature: "
            'sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">.'
        ),
    )
    public_url: str | None = Field(
        default=None,
        description=(
            "The address senders and users reach leadops at (https://leadops.example.com). "
            "HubSpot signs the URL it calls, so a hubspot webhook source behind a proxy needs it; "
            "`leadops webhooks add` prints the full URL with it."
        ),
    )
    notify_max_attempts: int = Field(
        default=8, description="Delivery attempts before a notification is given up."
    )
    notify_lease_seconds: float = Field(
        default=300.0,
        description="How long a claimed notification waits before another worker may retry it.",
    )

    worker_interval_seconds: float = Field(
        default=60.0,
        gt=0,
        description="Seconds between the worker's sweeps (leadops worker, leadops serve).",
    )
    session_hours: float = Field(
        default=12.0, description="How long a web sign-in lasts before signing in again."
    )
    cookie_secure: bool = Field(
        default=False,
        description="Send the session cookie over HTTPS only (set it when serving behind TLS).",
    )
    signin_failures_per_account: int = Field(
        default=10,
        ge=1,
        description=(
            "Failed sign-ins allowed for one e-mail (an account's or not) within the window; "
            "further attempts are refused (429, Retry-After), even with the right password, until "
            "the oldest failure leaves the window. A right password clears them."
        ),
    )
    signin_failures_per_address: int = Field(
        default=30,
        ge=1,
        description=(
            "Failed sign-ins allowed from one client address within the window (higher than per "
            "account: an office may share one address)."
        ),
    )
    signin_failure_window_minutes: float = Field(
        default=15.0,
        gt=0,
        description="How long a failed sign-in counts against its account and its address.",
    )
    predict_outcome: str = Field(
        default="appointment",
        pattern="^(appointment|won)$",
        description="What the predictive model learns by default: appointment or won.",
    )
    predict_min_leads: int = Field(
        default=200,
        ge=20,
        description="Leads with a known result needed before a model is trained (else refused).",
    )
    predict_min_positives: int = Field(
        default=40,
        ge=5,
        description="Of them, leads that reached the outcome needed before a model is trained.",
    )
    predict_horizon_days: int = Field(
        default=90,
        ge=1,
        description="A lead without the outcome this many days after creation counts as negative.",
    )
    predict_exclude: str = Field(
        default="",
        description=(
            "Comma-separated fields the model must not learn from (custom.NAME, source, …), "
            "for example a custom field that records the outcome itself."
        ),
    )
    predict_retrain_days: float = Field(
        default=7.0,
        gt=0,
        description="The worker retrains the predictive model this often (days).",
    )
    predict_rescore_hours: float = Field(
        default=24.0,
        gt=0,
        description="The worker rescores every open lead with the stored model this often (hours).",
    )

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def settings_from_file(path: Path) -> dict[str, str]:
    """Read KEY=VALUE lines (``LEADOPS_`` prefix optional) from a config file."""
    values: dict[str, str] = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if "=" not in line:
            raise ValueError(f"{path}: line {number}: expected KEY=VALUE, got {raw!r}")
        key, value = (part.strip() for part in line.split("=", 1))
        key = key.lower().removeprefix("leadops_")
        values[key] = value.strip("\"'")
    return values


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    config_file = os.environ.get("LEADOPS_CONFIG")
    if config_file:
        overrides = settings_from_file(Path(config_file))
        env = {k.removeprefix("LEADOPS_").lower() for k in os.environ if k.startswith("LEADOPS_")}
        # The environment wins over the file.
        return Settings(**{k: v for k, v in overrides.items() if k not in env})  # type: ignore[arg-type]
    return Settings()
