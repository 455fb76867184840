"""The one door: a status given by the API, an import or a fit rule meets the same transition table,
the same guards and the same consequences as one set by a rep."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

import leadops.rules
from leadops.errors import InvalidTransition
from leadops.ingest.importer import run_import
from leadops.ingest.mappings import resolve_mapping
from leadops.leads import find_lead
from leadops.lifecycle.door import Actor, Door
from leadops.models import ImportFlag, Lead, LeadEvent, Task, Team
from leadops.routing.org import apply_org, parse_org
from leadops.rules.service import active_rules, apply_rules
from leadops.runtime import Runtime
from tests.conftest import JST, NOW
from tests.integration.test_cadence import MARKETING, ORG


@pytest.fixture
def org(runtime: Runtime, session: Session) -> None:
    apply_org(session, parse_org(ORG), now=NOW - timedelta(days=1), tz=JST)
    session.commit()


def _inquiry(client: TestClient, email: str, key: str) -> None:
    item = {
        "email": email,
        "type": "form_submit",
        "occurred_at": (NOW - timedelta(hours=1)).isoformat(),
        "properties": {"form": "inquiry"},
        "external_id": key,
    }
    assert client.post("/api/v1/activities", json={"activities": [item]}).status_code == 200


def _lead(session: Session, email: str) -> Lead:
    session.commit()  # a fresh snapshot (SQLite keeps the transaction's)
    session.expire_all()
    return find_lead(session, email)


def _open_tasks(session: Session, lead_id: int) -> int:
    found = select(Task.id).where(Task.lead_id == lead_id, Task.state == "open")
    return len(session.scalars(found).all())


def test_an_api_upsert_to_recycled_needs_its_reason_and_hands_the_lead_to_nurture(
    client: TestClient, session: Session, org: None
) -> None:
    _inquiry(client, "buyer@kaisha.co.jp", "inq-1")
    lead = _lead(session, "buyer@kaisha.co.jp")
    assert _open_tasks(session, lead.id) == 1  # the inquiry's approach request
    refused = client.put(
        "/api/v1/leads", json={"email": "buyer@kaisha.co.jp", "status": "recycled"}
    )
    assert refused.status_code == 422
    assert refused.json()["detail"] == [
        {"path": "status_reason", "message": "moving a lead to recycled needs a reason"}
    ]
    # Nothing of it was written: the lead is as inside sales took it (a status conversion).
    assert _lead(session, "buyer@kaisha.co.jp").status == "lead"
    body = {"email": "buyer@kaisha.co.jp", "status": "recycled", "status_reason": "予算なし"}
    assert client.put("/api/v1/leads", json=body).status_code == 200
    lead = _lead(session, "buyer@kaisha.co.jp")
    assert (lead.status, lead.status_reason, lead.next_due_at) == ("recycled", "予算なし", None)
    assert _open_tasks(session, lead.id) == 0  # the approach request is cancelled
    marketing = session.scalar(select(Team.id).where(Team.name == MARKETING))
    assert lead.team_id == marketing  # back to nurture
    status = session.scalars(
        select(LeadEvent).where(
            LeadEvent.lead_id == lead.id,
            LeadEvent.kind == "status",
            LeadEvent.to_value == "recycled",
        )
    ).one()
    assert (status.from_value, status.to_value, status.reason) == ("lead", "recycled", "予算なし")
    assert (status.actor_kind, status.rules_version) == ("api", 1)


def test_a_status_the_table_forbids_is_refused_naming_the_field(
    client: TestClient, session: Session
) -> None:
    body = {"email": "won@kaisha.co.jp", "status": "customer"}
    assert client.put("/api/v1/leads", json=body).status_code == 201
    back = client.put("/api/v1/leads", json={"email": "won@kaisha.co.jp", "status": "lead"})
    assert back.status_code == 409
    assert back.json()["detail"] == [
        {"path": "status", "message": "customer → lead is not allowed"}
    ]
    batch = {
        "leads": [
            {"email": "ok@kaisha.co.jp"},
            {"email": "won@kaisha.co.jp", "status": "new"},
            {"email": "nurture@kaisha.co.jp", "status": "recycled"},
        ]
    }
    answer = client.post("/api/v1/leads/batch", json=batch)
    assert answer.status_code == 207
    assert {(r["index"], r["errors"][0]["path"]) for r in answer.json()["rejected"]} == {
        (1, "leads[1].status"),
        (2, "leads[2].status_reason"),
    }
    assert _lead(session, "won@kaisha.co.jp").status == "customer"


def test_an_imported_status_the_door_refuses_is_flagged_by_its_row_number(
    runtime: Runtime, session: Session, tmp_path: Path
) -> None:
    """The door refuses the move; the row is not lost for it: its lead is taken without that
    status, the value kept as a custom field and the row flagged with the door's reason."""
    path = tmp_path / "leads.csv"
    rows = [
        "email,status,status_reason,title",
        "a@kaisha.co.jp,lead,,部長",
        "b@kaisha.co.jp,recycled,,課長",
        "c@kaisha.co.jp,recycled,予算なし,係長",
        "d@kaisha.co.jp,customer,,社長",
    ]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    mapping = resolve_mapping(None, "leads")
    settings, clock = runtime.settings, runtime.clock
    first = run_import("leads", path, mapping, runtime.factory, settings, clock, actor="t")
    assert (first.taken, first.rejected) == (4, 0)
    assert [(n, f) for n, f, _ in first.flags] == [(3, "status_refused")]
    assert "status_reason: moving a lead to recycled needs a reason" in first.flags[0][2]
    b = _lead(session, "b@kaisha.co.jp")
    assert (b.status, b.title, b.custom) == ("new", "課長", {"status": "recycled"})
    path.write_text("email,status,title\nd@kaisha.co.jp,lead,会長\n", encoding="utf-8")
    second = run_import("leads", path, mapping, runtime.factory, settings, clock, actor="t")
    assert [(n, f) for n, f, _ in second.flags] == [(2, "status_refused")]
    assert "cannot go from customer to lead" in second.flags[0][2]
    session.rollback()  # a new snapshot: the second import wrote from another session
    stored = session.scalars(select(ImportFlag.flag).order_by(ImportFlag.id)).all()
    assert list(stored) == ["status_refused", "status_refused"]
    d = _lead(session, "d@kaisha.co.jp")
    assert (d.status, d.title) == ("customer", "会長")
    assert _lead(session, "c@kaisha.co.jp").status_reason == "予算なし"


def _rules_with(extra_fit: dict[str, object], **lifecycle: object) -> str:
    path = Path(leadops.rules.__file__).parent / "defaults.yaml"
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    document["scoring"]["fit"].append(extra_fit)
    document["lifecycle"].update(lifecycle)
    return yaml.safe_dump(document, allow_unicode=True)


def test_a_disqualifying_fit_rule_goes_through_the_door_and_its_consequences(
    client: TestClient, session: Session, runtime: Runtime, org: None
) -> None:
    student = {
        "id": "job-seeker",
        "when": {"field": "title", "contains": "就職活動"},
        "disqualify": "disqualified_sales",
    }
    apply_rules(session, _rules_with(student), author="t", comment="t", now=NOW)
    session.commit()
    _inquiry(client, "gakusei@kaisha.co.jp", "inq-2")
    lead = _lead(session, "gakusei@kaisha.co.jp")
    assert _open_tasks(session, lead.id) == 1
    body = {"email": "gakusei@kaisha.co.jp", "title": "就職活動中"}
    assert client.put("/api/v1/leads", json=body).status_code == 200
    lead = _lead(session, "gakusei@kaisha.co.jp")
    assert (lead.status, lead.is_valid, lead.next_due_at) == ("disqualified_sales", False, None)
    assert _open_tasks(session, lead.id) == 0
    event = session.scalars(
        select(LeadEvent).where(
            LeadEvent.lead_id == lead.id,
            LeadEvent.kind == "status",
            LeadEvent.to_value == "disqualified_sales",
        )
    ).one()
    assert (event.actor_kind, event.actor_ref, event.reason) == ("rule", "job-seeker", "job-seeker")


def _door(session: Session, at: datetime) -> Door:
    return Door(session, active_rules(session, at), at, Actor("system"))


def test_the_lifecycle_moves_back_only_where_the_rules_say(
    client: TestClient, session: Session, runtime: Runtime
) -> None:
    assert client.put("/api/v1/leads", json={"email": "l@kaisha.co.jp"}).status_code == 201
    lead_id = _lead(session, "l@kaisha.co.jp").id
    door = _door(session, NOW)
    door.lock([lead_id])
    door.move(lead_id, "lifecycle_stage", "opportunity")
    with pytest.raises(InvalidTransition, match="only moves forward"):
        door.move(lead_id, "lifecycle_stage", "sql")
    door.flush()
    session.commit()
    back = {"from": "opportunity", "to": "sql"}
    document = _rules_with({"id": "noop", "when": {"field": "title", "eq": "x"}}, backward=[back])
    apply_rules(session, document, author="t", comment="lost deals go back", now=NOW)
    session.commit()
    door = _door(session, NOW)
    door.lock([lead_id])
    assert door.move(lead_id, "lifecycle_stage", "sql", reason="lost") is True
    with pytest.raises(InvalidTransition, match="only moves forward"):
        door.move(lead_id, "lifecycle_stage", "inquiry")
    door.flush()
    session.commit()
    assert _lead(session, "l@kaisha.co.jp").lifecycle_stage == "sql"


def test_the_touch_stage_moves_one_touch_at_a_time(client: TestClient, session: Session) -> None:
    assert client.put("/api/v1/leads", json={"email": "t@kaisha.co.jp"}).status_code == 201
    lead_id = _lead(session, "t@kaisha.co.jp").id
    door = _door(session, NOW)
    door.lock([lead_id])
    with pytest.raises(InvalidTransition, match="one touch at a time"):
        door.move(lead_id, "touch_stage", "touch_3")
    assert door.move(lead_id, "touch_stage", "touch_1") is True
    assert door.move(lead_id, "touch_stage", "connected") is True
    door.flush()


def test_the_orm_refuses_to_assign_a_lead_s_state(client: TestClient, session: Session) -> None:
    assert client.put("/api/v1/leads", json={"email": "o@kaisha.co.jp"}).status_code == 201
    lead = _lead(session, "o@kaisha.co.jp")
    with pytest.raises(AttributeError, match="through leadops.lifecycle's Door"):
        lead.status = "lead"
    with pytest.raises(AttributeError):
        setattr(lead, "owner_id", 1)  # noqa: B010 - the name as dynamic code would give it
