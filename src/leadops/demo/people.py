"""The demo's leads and what they did: one scenario per lead, from its channel (seed 001's 経路)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from leadops.demo import vocab
from leadops.demo.world import Company, weighted
from leadops.models import Campaign

PAGES = [
    "/pricing",
    "/blog/inside-sales-kpi",
    "/blog/lead-scoring",
    "/case-studies",
    "/features",
    "/blog/ma-sfa",
]
ASSETS = [
    "inside-sales-guide.pdf",
    "case-study-manufacturing.pdf",
    "lead-checklist.pdf",
    "report-2026.pdf",
]


@dataclass
class Person:
    index: int
    email: str
    last_name: str
    first_name: str
    company: Company
    title: str
    department: str
    phone: str
    channel: str  # campaign type of the acquisition channel
    source: str  # seed 001's label of that channel
    campaign: Campaign
    created_at: datetime
    ma_system: str
    level: int | None = None  # the rules engine's, read back after ingestion
    inquiry: bool = False
    events: list[dict[str, Any]] = field(default_factory=list)


def _at_work(rng: random.Random, day: datetime) -> datetime:
    """A time on that day in Japanese business hours (the demo's day starts at 09:00 JST)."""
    return day + timedelta(minutes=rng.randint(0, 9 * 60))


def make_people(
    rng: random.Random,
    companies: list[Company],
    campaigns: dict[str, list[Campaign]],
    start: datetime,
    days: int,
    count: int,
) -> list[Person]:
    people: list[Person] = []
    used: set[str] = set()
    channel_weights = [(kind, weight) for _, kind, weight in vocab.CHANNELS]
    labels = {kind: label for label, kind, _ in vocab.CHANNELS}
    company_weights = [1 / (rank + 5) ** 0.6 for rank in range(len(companies))]
    for index in range(count):
        company = (
            companies[index]
            if index < len(companies)
            else rng.choices(companies, company_weights)[0]
        )
        last, last_r = rng.choice(vocab.LAST_NAMES)
        first, first_r = rng.choice(vocab.FIRST_NAMES)
        domain = company.domain if rng.random() > 0.08 else rng.choice(vocab.FREE_MAIL)
        local = f"{first_r}.{last_r}"
        email = f"{local}@{domain}"
        serial = 2
        while email in used:
            email = f"{local}{serial}@{domain}"
            serial += 1
        used.add(email)
        # Leads arrive a little faster as the half-year goes on (marketing ramps up).
        day_offset = int(days * rng.random() ** 0.85)
        created = _at_work(rng, start + timedelta(days=day_offset))
        channel = weighted(rng, channel_weights)
        pool = campaigns[channel]
        campaign = (
            min(pool, key=lambda c: abs(((c.starts_on or created.date()) - created.date()).days))
            if channel in ("tradeshow", "webinar")
            else rng.choice(pool)
        )  # noqa: E501
        phone = f"0{rng.randint(3, 9)}-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}"
        people.append(
            Person(
                index,
                email,
                last,
                first,
                company,
                weighted(rng, vocab.TITLES),
                rng.choice(vocab.DEPARTMENTS),
                phone,
                channel,
                labels[channel],
                campaign,
                created,
                weighted(rng, vocab.MA_SYSTEMS),
            )
        )
    return people


def make_activities(rng: random.Random, person: Person, now: datetime) -> None:
    """The person's activities: a scenario by acquisition channel, then the nurture that follows.
    (Their level comes from the rules engine when the activities go in.)"""
    at = person.created_at
    name = person.campaign.name
    events = person.events

    def add(type_: str, when: datetime, campaign: str | None = None, **props: Any) -> None:
        if when <= now:
            events.append(
                {
                    "email": person.email,
                    "type": type_,
                    "occurred_at": when.isoformat(),
                    "properties": props,
                    "source": "demo",
                    "external_id": f"demo-{person.index}-{len(events)}",
                    "campaign": campaign,
                }
            )

    if person.channel == "tradeshow":
        add("tradeshow_attend", at, name)
        if rng.random() < 0.4:
            talk = rng.random() < 0.45
            add("booth_visit", at + timedelta(minutes=30), name, detailed_talk=talk)
    elif person.channel == "content":
        add("content_download", at, name, asset=rng.choice(ASSETS))
        if rng.random() < 0.7:
            add(
                "email_open",
                at + timedelta(hours=rng.randint(1, 48)),
                name,
                email_id="download-mail",
            )
    elif person.channel == "webinar":
        add("webinar_register", at, name)
        live = at + timedelta(days=rng.randint(1, 10))
        if rng.random() < 0.65:
            add("webinar_attend", live, name)
            if rng.random() < 0.5:
                wants_contact = rng.random() < 0.3
                add("survey_answer", live + timedelta(hours=1), name, contact_request=wants_contact)
        else:
            add("webinar_no_show", live, name)
    elif person.channel == "inquiry_form":
        if rng.random() < 0.5:
            add("page_view", at - timedelta(minutes=10), url="/pricing")
        add("form_submit", at, name, form="inquiry")
        person.inquiry = True
    # Nurture: opens, clicks, page views and the odd download over the following weeks.
    horizon = max(1.0, (now - at).total_seconds() / 86400)
    for _ in range(rng.randint(0, 7)):
        add(
            "email_open",
            at + timedelta(days=rng.uniform(0.5, horizon)),
            email_id=f"newsletter-{rng.randint(1, 26)}",
        )
    for _ in range(rng.randint(0, 3)):
        add(
            "email_click",
            at + timedelta(days=rng.uniform(0.5, horizon)),
            email_id="newsletter",
            url="/features",
        )
    for _ in range(rng.randint(0, 8)):
        add("page_view", at + timedelta(days=rng.uniform(0.1, horizon)), url=rng.choice(PAGES))
    if rng.random() < 0.15:
        add(
            "content_download",
            at + timedelta(days=rng.uniform(1, horizon)),
            asset=rng.choice(ASSETS),
        )
    if rng.random() < 0.04:
        add("trial_signup", at + timedelta(days=rng.uniform(1, horizon)))
    if rng.random() < 0.03:
        add("unsubscribe", at + timedelta(days=rng.uniform(1, horizon)), email_id="newsletter")
    if rng.random() < 0.02:
        add("email_bounce", at + timedelta(days=rng.uniform(1, horizon)), email_id="newsletter")
