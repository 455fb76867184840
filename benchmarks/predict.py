"""Train the predictive model on 100,000 leads and score 100,000 open leads, against a plain read
of the same rows.

Setup (untimed): N leads (``--leads``, default 100,000) created over a year, with a source, a
prefecture, an account's industry and size, two custom fields (a number and a category) and 0–9
activities of five types each; about one in eight booked an appointment (an opportunity) at a time
after its activities. The rest are open or, past the horizon, negative.
Timed: ``train_model`` (facts at each lead's cut-off, both model families, calibration, metrics,
the stored version) on every lead with a known result, then ``score_leads`` on every open lead
(facts now, probabilities, factors, the prediction rows). In the same database: one SELECT of the
leads' columns and one of their activities, fetched in full — the raw speed of reading what the
features are made from.
"""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, text

from common import backend_of, fresh_database
from leadops.clock import FixedClock
from leadops.config import Settings
from leadops.db import insert_plain
from leadops.models import Account, Lead, Opportunity
from leadops.models.base import table_of
from leadops.predict.service import Options, open_lead_ids, score_leads, train_model
from leadops.rules.service import active_rules
from leadops.runtime import Runtime

SOURCES = ("web", "webinar", "tradeshow", "ads", "referral", "partner")
PREFECTURES = ("東京都", "大阪府", "愛知県", "福岡県", "北海道", "京都府", "神奈川県")
INDUSTRIES = ("製造業", "情報通信業", "小売業", "金融業", "建設業")
TYPES = ("page_view", "email_open", "email_click", "content_download", "webinar_attend")
ACTIVITY_COLUMNS = (
    "lead_id",
    "type",
    "occurred_at",
    "received_at",
    "properties",
    "source_system",
    "external_id",
)
TRAIN_BUDGET = 60.0
SCORE_BUDGET = 10.0


def run(*, database_url: str | None, events: int, leads: int | None = None) -> dict[str, Any]:
    now = datetime(2026, 11, 23, tzinfo=UTC)
    count = leads or 100_000
    with fresh_database(database_url) as url:
        rt = Runtime.create(Settings(database_url=url), FixedClock(now))
        try:
            _load(rt, count, now)
            return _measure(rt, url, count, now)
        finally:
            rt.close()


def _lead_row(i: int, created: datetime, rng: random.Random, account_id: int) -> dict[str, Any]:
    return {
        "email": f"lead{i}@bench{i % 5000}.co.jp",
        "source": SOURCES[rng.randrange(len(SOURCES))],
        "prefecture": PREFECTURES[rng.randrange(len(PREFECTURES))],
        "account_id": account_id,
        "created_at": created,
        "ingested_at": created,
        "updated_at": created,
        "custom": {"budget": rng.randint(1, 500), "plan": rng.choice(("basic", "pro", "max"))},
        "flags": [],
        "group_scores": {},
        "score_state": {},
    }


def _load(rt: Runtime, count: int, now: datetime) -> None:
    rng = random.Random(11)
    start = now - timedelta(days=365)
    with rt.factory() as session, session.begin():
        active_rules(session, now)
        accounts = [
            {
                "name": f"Company {a}",
                "normalized_name": f"company {a}",
                "employees": rng.choice((5, 30, 120, 800, 3000)),
                "industry": INDUSTRIES[a % len(INDUSTRIES)],
                "custom": {},
                "created_at": start,
            }
            for a in range(5000)
        ]
        session.execute(insert(table_of(Account)), accounts)
        first_account = session.execute(text("SELECT min(id) FROM accounts")).scalar_one()
        rows, created_at = [], []
        for i in range(count):
            created = start + timedelta(seconds=int(i * 365 * 86400 / count))
            created_at.append(created)
            rows.append(_lead_row(i, created, rng, first_account + i % 5000))
        for part in range(0, count, 20_000):
            session.execute(insert(table_of(Lead)), rows[part : part + 20_000])
        ids = list(session.scalars(select(Lead.id).order_by(Lead.id)))
        batch: list[tuple[Any, ...]] = []
        opportunities = []
        for lead_id, created, row in zip(ids, created_at, rows, strict=True):
            n = rng.randint(0, 9)
            for k in range(n):
                at = created + timedelta(hours=rng.randint(1, 24 * 20))
                batch.append((lead_id, rng.choice(TYPES), at, at, {}, "bench", f"{lead_id}-{k}"))
            chance = 0.05 + 0.02 * n + (0.1 if row["source"] == "webinar" else 0.0)
            booked = created + timedelta(days=rng.randint(5, 40))
            if rng.random() < chance and booked < now:
                opportunities.append(
                    {
                        "lead_id": lead_id,
                        "name": f"deal {lead_id}",
                        "stage": "proposal_sent",
                        "created_at": booked,
                        "stage_changed_at": booked,
                    }
                )
            if len(batch) >= 50_000:
                insert_plain(session, "activities", ACTIVITY_COLUMNS, batch)
                batch = []
        insert_plain(session, "activities", ACTIVITY_COLUMNS, batch)
        for part in range(0, len(opportunities), 20_000):
            session.execute(insert(table_of(Opportunity)), opportunities[part : part + 20_000])
        # What ingest keeps on each lead: the time of its latest activity.
        session.execute(
            text(
                "UPDATE leads SET last_activity_at = (SELECT max(a.occurred_at) FROM activities a "
                "WHERE a.lead_id = leads.id)"
            )
        )
    with rt.engine.connect() as connection:
        if backend_of(str(rt.engine.url)) == "postgresql":
            connection.execute(text("ANALYZE"))
            connection.commit()


def _measure(rt: Runtime, url: str, count: int, now: datetime) -> dict[str, Any]:
    options = Options(outcome="appointment", horizon_days=60)
    with rt.factory() as session, session.begin():
        rules = active_rules(session, now)
        started = time.perf_counter()
        model = train_model(session, rules, now, now, options)
        train_seconds = time.perf_counter() - started
    with rt.factory() as session, session.begin():
        rules = active_rules(session, now)
        open_leads = len(open_lead_ids(session, rules))
        started = time.perf_counter()
        scored = score_leads(session, rules, now)
        score_seconds = time.perf_counter() - started
    with rt.engine.connect() as connection:
        started = time.perf_counter()
        lead_rows = connection.execute(
            text(
                "SELECT id, created_at, email, source, prefecture, region, title, custom, "
                "account_id FROM leads"
            )
        ).all()
        activity_rows = connection.execute(
            text("SELECT lead_id, type, occurred_at FROM activities")
        ).all()
        read_seconds = time.perf_counter() - started
    backend = backend_of(url)
    metrics = model.metrics
    result = {
        "backend": backend,
        "leads": count,
        "activities": len(activity_rows),
        "labelled": metrics["labelled"],
        "model": model.kind,
        "auc": metrics["auc"],
        "train_seconds": round(train_seconds, 2),
        "train_budget_seconds": TRAIN_BUDGET,
        "open_leads": open_leads,
        "scored_leads": scored,
        "score_seconds": round(score_seconds, 2),
        "score_budget_seconds": SCORE_BUDGET,
        "raw_read_seconds": round(read_seconds, 2),
        "raw_rows": len(lead_rows) + len(activity_rows),
        "within_budget": train_seconds < TRAIN_BUDGET and score_seconds < SCORE_BUDGET,
    }
    result["summary"] = (
        f"predict on {backend}: trained on {metrics['labelled']:,} of {count:,} leads "
        f"({model.kind}, holdout AUC {metrics['auc']}) in {train_seconds:.1f} s (budget "
        f"{TRAIN_BUDGET:.0f} s); scored {scored:,} leads in {score_seconds:.1f} s (budget "
        f"{SCORE_BUDGET:.0f} s); one plain read of the leads and their activities "
        f"{read_seconds:.1f} s"
    )
    return result
