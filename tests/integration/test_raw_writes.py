"""The raw writes of the hot paths (``insert_plain``, ``update_plain``) store what SQLAlchemy
would: aware times, JSON documents, JSON null for a JSON column's None; and JSON is read back the
same by the ORM and the raw reads, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text

from leadops.db import driver_time, insert_plain, json_loads, update_plain
from leadops.lifecycle.facts import load_leads
from leadops.models import Lead, LeadEvent
from leadops.models.base import table_of
from leadops.models.leads import LEAD_EVENT_COLUMNS
from leadops.runtime import Runtime
from tests.conftest import NOW
from tests.factories import make_lead


def test_update_plain_writes_what_the_orm_reads_back(runtime: Runtime) -> None:
    with runtime.factory() as session, session.begin():
        first = make_lead(session, runtime, email="raw1@example.co.jp").id
        second = make_lead(session, runtime, email="raw2@example.co.jp").id
    due = datetime(2026, 12, 1, 3, 4, 5, 600, tzinfo=UTC)
    with runtime.factory() as session, session.begin():
        columns = ("custom", "score", "score_due_at", "score_state", "is_valid")
        update_plain(
            session,
            table_of(Lead),
            columns,
            [
                (first, {"予算": "300万円", "n": 3}, 42, due, {"groups": {"fit": 5}}, False),
                (second, {}, 7, None, None, True),
            ],
        )
    with runtime.factory() as session:
        one, two = (session.get(Lead, i) for i in (first, second))
        assert one is not None
        assert two is not None
        assert (one.custom, one.score, one.score_due_at, one.is_valid) == (
            {"予算": "300万円", "n": 3},
            42,
            due,
            False,
        )
        assert one.score_state == {"groups": {"fit": 5}}
        assert (two.score, two.score_due_at, two.score_state, two.is_valid) == (7, None, None, True)
        # A JSON column's None is stored as JSON null, as the ORM writes it (not SQL NULL).
        stored = session.execute(
            text("SELECT score_state IS NULL FROM leads WHERE id = :id"), {"id": second}
        ).scalar_one()
        assert not stored
        raw = load_leads(session, [first], lock=False)[first].values
        assert raw["custom"] == {"予算": "300万円", "n": 3}
        assert raw["score_due_at"] == due


def test_insert_plain_keeps_times_and_documents(runtime: Runtime) -> None:
    with runtime.factory() as session, session.begin():
        lead_id = make_lead(session, runtime, email="raw3@example.co.jp").id
    at = NOW.astimezone(UTC) + timedelta(microseconds=1)
    with runtime.factory() as session, session.begin():
        insert_plain(
            session,
            "lead_events",
            LEAD_EVENT_COLUMNS,
            [(lead_id, at, "status", "new", "working", "a\ttab and\nnewline", "user", None, 1)],
        )
    with runtime.factory() as session:
        event = session.scalars(
            select(LeadEvent).where(LeadEvent.lead_id == lead_id, LeadEvent.to_value == "working")
        ).one()
        assert (event.at, event.reason) == (at, "a\ttab and\nnewline")


def test_json_read_fast_and_leniently() -> None:
    assert json_loads('{"a": [1, 2.5, "日本"]}') == {"a": [1, 2.5, "日本"]}
    assert json_loads(b'{"big": 123456789012345678901234567890}')["big"] == (
        123456789012345678901234567890
    )
    nan = json_loads('{"x": NaN}')["x"]
    assert nan != nan


def test_json_without_properties_is_a_new_empty_object_each_time() -> None:
    first, second = json_loads("{}"), json_loads(b"{}")
    assert first == second == {}
    first["x"] = 1
    assert json_loads("{}") == {}  # never one shared dict
    assert [json_loads("[]"), json_loads("1"), json_loads('"{}"')] == [[], 1, "{}"]


def test_times_from_the_driver_are_utc_whatever_text_sqlite_holds() -> None:
    expected = datetime(2026, 11, 23, 9, 30, 1, 250000, tzinfo=UTC)
    assert driver_time("2026-11-23 09:30:01.250000") == expected
    assert driver_time("2026-11-23T09:30:01.250000") == expected
    assert driver_time("2026-11-23 18:30:01.250000+09:00") == expected  # text with its offset
    assert driver_time("2026-11-23 09:30:01").tzinfo is UTC
    assert driver_time(expected) is expected  # PostgreSQL hands datetimes
