"""``leadops predict`` and what it feeds: train, evaluate and score as JSON, the lead's prediction
in ``lead show``, the predictions report in CSV, JSON and XLSX, and the refusal in one line."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import create_engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from leadops.cli import app
from tests.predict_world import build_world

runner = CliRunner()


@pytest.fixture
def env(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("LEADOPS_DATABASE_URL", db_url)
    monkeypatch.setenv("LEADOPS_PREDICT_HORIZON_DAYS", "60")
    return db_url


def _world(url: str, leads: int = 420) -> None:
    engine = create_engine(url)
    with Session(engine) as session, session.begin():
        build_world(session, leads=leads)
    engine.dispose()


def test_predict_train_evaluate_score_and_the_lead_s_prediction(env: str, tmp_path: Path) -> None:
    _world(env)
    trained = runner.invoke(app, ["predict", "train", "--format", "json"])
    assert trained.exit_code == 0, trained.output
    info = json.loads(trained.output)
    assert info["version"] == 1
    assert info["outcome"] == "appointment"
    assert info["scored"] > 0
    for key in ("auc", "log_loss", "precision_top_20", "base_rate", "rules_score_auc"):
        assert isinstance(info["metrics"][key], float), key
    evaluated = runner.invoke(app, ["predict", "evaluate", "--outcome", "won", "--format", "json"])
    assert evaluated.exit_code == 0, evaluated.output
    measured = json.loads(evaluated.output)
    assert measured["outcome"] == "won"
    assert len(measured["calibration"]) == 5
    table = runner.invoke(app, ["predict", "evaluate"])
    assert "calibration" in table.output
    assert "rules_score_auc" in table.output
    scored = runner.invoke(app, ["predict", "score", "--format", "json"])
    assert json.loads(scored.output)["scored"] == info["scored"]

    report = runner.invoke(app, ["report", "predictions", "--format", "csv"])
    assert report.exit_code == 0, report.output
    rows = list(csv.DictReader(io.StringIO(report.output)))
    assert len(rows) == info["scored"]
    assert list(rows[0])[:4] == ["lead_id", "email", "crm_source", "external_id"]
    probabilities = [float(r["probability"]) for r in rows]
    assert probabilities == sorted(probabilities, reverse=True)
    assert rows[0]["factors"].startswith(("↑", "↓"))
    as_json = json.loads(runner.invoke(app, ["report", "predictions", "--format", "json"]).output)
    assert as_json["rows"][0]["lead_id"] == int(rows[0]["lead_id"])
    target = tmp_path / "predictions.xlsx"
    written = runner.invoke(
        app, ["report", "predictions", "--format", "xlsx", "--output", str(target)]
    )
    assert written.exit_code == 0, written.output
    sheet = load_workbook(target).active
    assert [c.value for c in sheet[1]][:4] == ["lead_id", "email", "crm_source", "external_id"]

    shown = runner.invoke(app, ["lead", "show", rows[0]["email"], "--format", "json"])
    prediction = json.loads(shown.output)["prediction"]
    assert prediction["probability"] == pytest.approx(float(rows[0]["probability"]))
    assert prediction["factors"]
    assert {"ja", "en", "direction", "feature"} <= set(prediction["factors"][0])


def test_predict_train_refuses_in_one_line_below_the_minimum(env: str) -> None:
    _world(env, leads=100)
    refused = runner.invoke(app, ["predict", "train"])
    assert refused.exit_code == 2
    assert "not enough history to learn from" in refused.output
    assert runner.invoke(app, ["predict", "score"]).exit_code == 2
    bad = runner.invoke(app, ["predict", "train", "--outcome", "sale"])
    assert bad.exit_code == 2
    assert "--outcome" in bad.output
