"""The demo's organisation, campaigns, companies and people: who exists before anything happens."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadops.demo import vocab
from leadops.ingest.prefectures import PREFECTURES
from leadops.models import Campaign, Team, User
from leadops.routing.org import OrgDocument, apply_org

DOMAIN = "demo.leadops.jp"


@dataclass
class Company:
    name: str
    domain: str
    employees: int
    industry: str
    prefecture: str


@dataclass
class Org:
    teams: dict[str, Team]
    members: dict[str, list[User]]  # team name -> members (not the manager)
    managers: dict[str, User]
    admin: User


def weighted(rng: random.Random, pairs: list[tuple[str, float]] | list[tuple[str, int]]) -> str:
    names = [p[0] for p in pairs]
    weights = [p[1] for p in pairs]
    return rng.choices(names, weights=weights, k=1)[0]


def org_document(now: datetime) -> OrgDocument:
    """Seed 001's four departments. One inside-sales rep works part-time (weight 0.5) and another
    had a week off two months ago: routing has to account for both."""
    holiday = now - timedelta(days=60)
    teams: list[dict[str, Any]] = []
    users: list[dict[str, Any]] = [
        {"email": f"admin@{DOMAIN}", "name": "管理者 Admin", "role": "admin"}
    ]
    for team_name, kind, (m_last, m_first, m_romaji), people in vocab.ORG:
        teams.append({"name": team_name, "kind": kind, "manager": f"{m_romaji}@{DOMAIN}"})
        users.append(
            {
                "email": f"{m_romaji}@{DOMAIN}",
                "name": f"{m_last} {m_first}",
                "role": "manager",
                "team": team_name,
            }
        )
        for index, (last, first, romaji) in enumerate(people):
            user: dict[str, Any] = {
                "email": f"{romaji}@{DOMAIN}",
                "name": f"{last} {first}",
                "role": "marketing" if kind == "marketing" else "member",
                "team": team_name,
                "capacity": 400 if kind == "inside_sales" else 250,
            }
            if kind == "inside_sales" and index == len(people) - 1:
                user["weight"] = 0.5
            if kind == "inside_sales" and index == 1:
                user["out_of_office"] = [
                    {"from": holiday, "to": holiday + timedelta(days=7), "note": "夏季休暇"}
                ]
            users.append(user)
    return OrgDocument.model_validate({"teams": teams, "users": users})


def build_org(session: Session, now: datetime, tz: Any) -> Org:
    document = org_document(now)
    apply_org(session, document, now=now, tz=tz)
    teams = {t.name: t for t in session.scalars(select(Team))}
    users = {u.email: u for u in session.scalars(select(User))}
    members: dict[str, list[User]] = {t.name: [] for t in document.teams}
    for item in document.users:
        if item.team and item.role in ("member", "marketing"):
            members[item.team].append(users[item.email])
    managers = {t.name: users[t.manager] for t in document.teams if t.manager}
    return Org(teams, members, managers, users[f"admin@{DOMAIN}"])


def build_campaigns(
    session: Session, rng: random.Random, start: date, days: int, now: datetime
) -> dict[str, list[Campaign]]:
    out: dict[str, list[Campaign]] = {}
    for kind, entries in vocab.CAMPAIGNS.items():
        out[kind] = []
        for index, (name, cost) in enumerate(entries):
            if kind in ("tradeshow", "webinar"):
                offset = int((index + 0.5) * days / len(entries)) + rng.randint(-7, 7)
                begins = start + timedelta(days=max(0, min(days - 2, offset)))
                ends = begins + timedelta(days=2 if kind == "tradeshow" else 0)
            else:
                begins, ends = start, start + timedelta(days=days)
            campaign = Campaign(
                name=name,
                type=kind,
                channel=_channel_label(kind),
                starts_on=begins,
                ends_on=ends,
                cost=float(cost),
                created_at=now,
            )
            session.add(campaign)
            out[kind].append(campaign)
    session.flush()
    return out


def _channel_label(kind: str) -> str:
    return next(label for label, k, _ in vocab.CHANNELS if k == kind)


def build_companies(rng: random.Random, count: int) -> list[Company]:
    prefectures = [
        (p.name, vocab.PREFECTURE_WEIGHTS.get(p.name, vocab.OTHER_PREFECTURE_WEIGHT))
        for p in PREFECTURES
    ]
    qualifiers = [
        ("", ""),
        ("ジャパン", "japan"),
        ("関西", "kansai"),
        ("東日本", "east"),
        ("インターナショナル", "intl"),
        ("テック", "tec"),
        ("ネットワークス", "net"),
    ]
    combos = [
        (s, k, q) for s in vocab.COMPANY_STEMS for k in vocab.COMPANY_KINDS for q in qualifiers
    ]
    rng.shuffle(combos)
    companies = []
    for (stem, stem_r), (kind, kind_r, industry), (qual, qual_r) in combos[:count]:
        core = f"{stem}{qual}{kind}"
        legal = rng.random()
        name = (
            f"株式会社{core}"
            if legal < 0.55
            else f"{core}株式会社"
            if legal < 0.95
            else f"有限会社{core}"
        )
        domain = f"{stem_r}{'-' + qual_r if qual_r else ''}-{kind_r}.co.jp"
        employees = max(3, min(30_000, int(rng.lognormvariate(4.2, 1.5))))
        companies.append(Company(name, domain, employees, industry, weighted(rng, prefectures)))
    return companies
