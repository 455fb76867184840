"""A rules preview routes chunk after chunk in one transaction: it keeps the reps' open-lead counts
(``routing.service.KEPT_OPEN_LEADS``) instead of counting every open lead again for each chunk,
and the owners it shows are still the ones applying the document gives."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from leadops.lifecycle.door import Actor, Door
from leadops.models import Lead, User
from leadops.pipeline import catch_up
from leadops.routing.org import apply_org, parse_org
from leadops.rules.loader import default_rules_text
from leadops.rules.service import active_rules, apply_rules
from leadops.runtime import Runtime
from leadops.whatif import preview_rules
from tests.factories import give, make_lead

IS_TEAM = "本社営業本部インサイドセールス部"
ORG = f"""
teams:
  - {{name: {IS_TEAM}, kind: inside_sales, manager: is-boss@x.jp}}
users:
  - {{email: is-boss@x.jp, name: IS Boss, role: manager, team: {IS_TEAM}}}
  - {{email: is1@x.jp, name: IS One, team: {IS_TEAM}, capacity: 3}}
  - {{email: is2@x.jp, name: IS Two, team: {IS_TEAM}, capacity: 4}}
"""
CHANGED = default_rules_text().replace("      points: 25\n", "      points: 60\n", 1)
NEW_LEADS = 9


def _setup(session: Session, runtime: Runtime) -> None:
    now = runtime.clock.now()
    # Leads nobody owns yet: made before the organisation (there is no team to route them to).
    for i in range(NEW_LEADS + 2):
        make_lead(session, runtime, email=f"lead{i}@x.co.jp")
    apply_org(session, parse_org(ORG), now=now, tz=runtime.settings.tz)
    session.flush()
    is1 = session.scalars(select(User).where(User.email == "is1@x.jp")).one()
    assert is1.team_id is not None
    # is1 already works one open lead and one it closed: one of its three places is taken.
    leads = {
        email: session.scalars(select(Lead).where(Lead.email == email)).one()
        for email in ("lead0@x.co.jp", "lead1@x.co.jp")
    }
    for lead in leads.values():
        give(session, runtime, lead, owner_id=is1.id, team_id=is1.team_id)
    door = Door(session, active_rules(session, now), now, Actor("system"))
    closed = leads["lead1@x.co.jp"].id
    door.lock([closed])
    door.move(closed, "status", "disqualified_sales", reason="not a fit")
    door.flush()
    session.commit()
    assert _owners(session) == {
        **{f"lead{i}@x.co.jp": None for i in range(2, NEW_LEADS + 2)},
        "lead0@x.co.jp": "is1@x.jp",
        "lead1@x.co.jp": "is1@x.jp",
    }


def _owners(session: Session) -> dict[str, str | None]:
    rows = session.execute(
        select(Lead.email, User.email).outerjoin(User, User.id == Lead.owner_id)
    ).all()
    return {lead: owner for lead, owner in rows}


def test_a_preview_counts_open_leads_once_and_shows_the_owners_applying_gives(
    runtime: Runtime, session: Session
) -> None:
    _setup(session, runtime)
    now = runtime.clock.now()
    counts: list[str] = []

    def spy(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "count(" in statement.lower() and "group by leads.owner_id" in statement.lower():
            counts.append(statement)

    engine = runtime.factory.kw["bind"]
    event.listen(engine, "before_cursor_execute", spy)
    try:
        preview = preview_rules(runtime.factory, CHANGED, now, chunk=2)
    finally:
        event.remove(engine, "before_cursor_execute", spy)
    # Five chunks routed, the reps' open leads counted once.
    assert len(counts) == 1
    shown = Counter({(m.before, m.after): m.count for m in preview.moves if m.what == "owner_id"})

    before = _owners(session)
    session.close()
    with runtime.factory() as s, s.begin():
        apply_rules(s, CHANGED, author="test", comment="trials are worth more", now=now)
    catch_up(runtime.factory, now, chunk=2)
    with runtime.factory() as s:
        after = _owners(s)
    applied = Counter((before[e], after[e]) for e in before if before[e] != after[e])
    assert shown == applied
    # is1 took two more (its third place), is2 four, and the manager the rest.
    assert applied == {(None, "is1@x.jp"): 2, (None, "is2@x.jp"): 4, (None, "is-boss@x.jp"): 3}
