"""The schema exists only through migrations, and the migrated schema is what the models say."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from leadops.db import alembic_config, make_engine, normalize_url
from leadops.models import ACTIVITY_TYPES, Base


def test_migrated_schema_matches_the_models(db_url: str) -> None:
    engine = create_engine(normalize_url(db_url))
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert diff == []


def test_every_table_of_the_data_model_exists(db_url: str) -> None:
    engine = create_engine(normalize_url(db_url))
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    expected = {
        "accounts",
        "leads",
        "activities",
        "activity_types",
        "score_ledger",
        "lead_events",
        "lead_assignments",
        "touches",
        "tasks",
        "campaigns",
        "campaign_members",
        "opportunities",
        "opportunity_events",
        "teams",
        "users",
        "out_of_office",
        "rules_versions",
        "notifications",
        "import_jobs",
        "import_rejects",
        "import_flags",
    }
    assert expected <= tables


def test_indexes_the_reports_and_sweeps_need(db_url: str) -> None:
    engine = create_engine(normalize_url(db_url))
    inspector = inspect(engine)

    def indexed(table: str) -> set[tuple[str, ...]]:
        found = {tuple(ix["column_names"]) for ix in inspector.get_indexes(table)}
        found |= {tuple(uq["column_names"]) for uq in inspector.get_unique_constraints(table)}
        return found

    assert ("source_system", "external_id") in indexed("activities")
    assert ("lead_id", "occurred_at") in indexed("activities")
    assert ("lead_id", "at") in indexed("score_ledger")
    assert ("kind", "at") in indexed("lead_events")
    assert ("state", "due_at") in indexed("tasks")
    assert ("owner_id", "status") in indexed("leads")
    assert ("next_due_at",) in indexed("leads")
    assert ("sent_at", "next_attempt_at") in indexed("notifications")
    engine.dispose()


def test_builtin_activity_types_are_seeded(db_url: str) -> None:
    engine = create_engine(normalize_url(db_url))
    with engine.connect() as connection:
        names = {
            row[0]
            for row in connection.execute(text("SELECT name FROM activity_types WHERE builtin"))
        }
    engine.dispose()
    assert names == set(ACTIVITY_TYPES)


def test_migrations_go_down_and_up_again(db_url: str) -> None:
    config = alembic_config(db_url)
    command.downgrade(config, "base")
    engine = create_engine(normalize_url(db_url))
    assert "leads" not in inspect(engine).get_table_names()
    engine.dispose()
    command.upgrade(config, "head")
    engine = create_engine(normalize_url(db_url))
    assert "leads" in inspect(engine).get_table_names()
    engine.dispose()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: object) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/x.db")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()
