"""Model versions and lead predictions in the database.

A model is kept as a pickle of the objects ``leadops.predict.train`` fitted; it is read back only
from leadops' own ``prediction_models`` table, never from a file or a user's upload. Loaded models
are cached by version, so scoring a batch loads at most one."""

from __future__ import annotations

import itertools
import pickle
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session, defer

from leadops.db import chunked, insert_for, insert_plain, json_text
from leadops.models import LeadPrediction, PredictionModel
from leadops.predict.train import Trained, Training

_CACHE: dict[int, Trained] = {}
_CACHE_SIZE = 4


def save_model(
    session: Session, outcome: str, as_of: datetime, now: datetime, training: Training
) -> PredictionModel:
    version = (session.scalar(select(func.max(PredictionModel.version))) or 0) + 1
    row = PredictionModel(
        version=version,
        outcome=outcome,
        kind=training.trained.kind,
        trained_at=now,
        as_of=as_of,
        metrics=training.metrics,
        body=pickle.dumps(training.trained, protocol=pickle.HIGHEST_PROTOCOL),
    )
    session.add(row)
    session.flush()
    _remember(version, training.trained)
    return row


def latest_model(session: Session) -> PredictionModel | None:
    """The newest version's row, without its model bytes (read only when scoring needs them)."""
    stmt = (
        select(PredictionModel)
        .options(defer(PredictionModel.body))
        .order_by(PredictionModel.version.desc())
        .limit(1)
    )
    return session.scalars(stmt).first()


def latest_version(session: Session) -> tuple[int, str] | None:
    stmt = (
        select(PredictionModel.version, PredictionModel.outcome)
        .order_by(PredictionModel.version.desc())
        .limit(1)
    )
    found = session.execute(stmt).first()
    return None if found is None else (found[0], found[1])


def _remember(version: int, trained: Trained) -> None:
    _CACHE[version] = trained
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.pop(min(_CACHE))


def load_model(session: Session, version: int) -> Trained:
    if version not in _CACHE:
        stmt = select(PredictionModel.body).where(PredictionModel.version == version)
        body = session.scalar(stmt)
        if body is None:
            raise LookupError(f"no prediction model version {version}")
        trained = pickle.loads(body)  # noqa: S301 - our own table, written by save_model
        if not isinstance(trained, Trained):
            raise TypeError(f"prediction model {version} is not a trained model")
        _remember(version, trained)
    return _CACHE[version]


#: Above this many rows, predictions are replaced by a delete and one bulk append.
BULK = 2000
COLUMNS = ("lead_id", "model_version", "outcome", "probability", "factors", "scored_at")


def write_predictions(session: Session, rows: Sequence[dict[str, Any]]) -> int:
    """Each lead's prediction replaced by the new one (a retry writes the same). Many at once
    (a rescore) are deleted and appended in bulk; a few (an ingest batch) are upserted."""
    if len(rows) > BULK:
        if session.connection().dialect.name == "postgresql":
            _copy_and_upsert(session, rows)
            return len(rows)
        forget_predictions(session, [r["lead_id"] for r in rows])
        insert_plain(
            session, "lead_predictions", COLUMNS, [tuple(r[c] for c in COLUMNS) for r in rows]
        )
        return len(rows)
    insert = insert_for(session)
    for part in chunked(list(rows), 1000):
        stmt = insert(LeadPrediction).values(list(part))
        stmt = stmt.on_conflict_do_update(
            index_elements=["lead_id"],
            set_={
                name: stmt.excluded[name]
                for name in ("model_version", "outcome", "probability", "factors", "scored_at")
            },
        )
        session.execute(stmt)
    return len(rows)


_STAGING = itertools.count(1)


def _copy_text(value: str) -> str:
    """A JSON text as a value of COPY's text format: JSON holds no raw tab, newline or carriage
    return (they are escaped inside its strings), so only its backslashes need doubling."""
    return value.replace("\\", "\\\\")


def _copy_and_upsert(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """PostgreSQL: the rows COPied (text format, in large pieces) into a table of this transaction,
    then upserted in one statement — far cheaper than a row at a time through the driver, or than
    a delete and a COPY into the indexed table."""
    staging = f"predictions_{next(_STAGING)}"
    session.execute(
        text(f"CREATE TEMPORARY TABLE {staging} (LIKE lead_predictions) ON COMMIT DROP")
    )
    lines = [
        f"{r['lead_id']}\t{r['model_version']}\t{r['outcome']}\t{r['probability']!r}\t"
        f"{_copy_text(json_text(r['factors']))}\t{r['scored_at'].isoformat()}\n"
        for r in rows
    ]
    dbapi: Any = session.connection().connection.dbapi_connection
    with dbapi.cursor() as cursor, cursor.copy(f"COPY {staging} FROM STDIN") as copy:
        for start in range(0, len(lines), 5000):
            copy.write("".join(lines[start : start + 5000]))
    updates = ", ".join(f"{c} = excluded.{c}" for c in COLUMNS if c != "lead_id")
    session.execute(
        text(
            f"INSERT INTO lead_predictions ({', '.join(COLUMNS)}) "
            f"SELECT {', '.join(COLUMNS)} FROM {staging} "
            f"ON CONFLICT (lead_id) DO UPDATE SET {updates}"
        )
    )


def forget_predictions(session: Session, lead_ids: Sequence[int]) -> None:
    size = 10_000 if session.connection().dialect.name == "postgresql" else 900
    for part in chunked(sorted(lead_ids), size):
        session.execute(delete(LeadPrediction).where(LeadPrediction.lead_id.in_(part)))


def predictions_for(session: Session, lead_ids: Sequence[int]) -> dict[int, LeadPrediction]:
    out: dict[int, LeadPrediction] = {}
    for part in chunked(sorted(lead_ids), 500):
        stmt = select(LeadPrediction).where(LeadPrediction.lead_id.in_(part))
        out.update((p.lead_id, p) for p in session.scalars(stmt))
    return out


def prediction_detail(session: Session, lead_id: int) -> dict[str, Any] | None:
    """A lead's prediction as ``lead show`` and the lead page show it, or None."""
    found = session.get(LeadPrediction, lead_id)
    if found is None:
        return None
    return {
        "probability": found.probability,
        "factors": found.factors,
        "outcome": found.outcome,
        "model_version": found.model_version,
        "scored_at": found.scored_at,
    }
