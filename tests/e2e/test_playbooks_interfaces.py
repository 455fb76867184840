"""Playbooks and connect-patterns through the API, the CLI and the pages: the template a touch used,
the next touch's playbook on the lead page and in the queue, the report in every format."""

from __future__ import annotations

import csv
import html
import io
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select
from typer.testing import CliRunner

from leadops.cli import app
from leadops.models import Touch
from leadops.runtime import Runtime
from tests.webapp import build_org, signed_in

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "org.yaml"
runner = CliRunner()


def test_touches_name_their_template_and_the_report_counts_them_over_the_api(
    client: TestClient, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEADOPS_DATABASE_URL", db_url)
    assert runner.invoke(app, ["org", "apply", str(EXAMPLE)]).exit_code == 0
    client.put("/api/v1/leads", json={"email": "tanaka@maker.co.jp", "company": "メーカー"})
    url = "/api/v1/leads/tanaka@maker.co.jp/touches"
    first = client.post(url, json={"channel": "call", "outcome": "no_answer"})
    assert first.status_code == 201
    assert first.json()["template"] == "stage1-call-voicemail"  # touch_1's playbook
    unknown = client.post(
        url, json={"channel": "email", "outcome": "sent", "template": "=cmd|' /C calc'!A0"}
    )
    assert unknown.status_code == 422
    assert [d["path"] for d in unknown.json()["detail"]] == ["template"]
    assert "unknown template" in unknown.json()["detail"][0]["message"]
    named = client.post(
        url, json={"channel": "email", "outcome": "replied", "template": "stage4-anything-needed"}
    )
    assert (named.status_code, named.json()["template"]) == (201, "stage4-anything-needed")

    body = client.get("/api/v1/reports/connect-patterns").json()
    assert body["rows"] == [
        {
            "template": "stage1-call-voicemail",
            "channel": "call",
            "stage": "touch_1",
            "touches": 1,
            "connects": 0,
            "connect_rate": 0.0,
            "appointments": 0,
            "appointment_rate": 0.0,
        },
        {
            "template": "stage4-anything-needed",
            "channel": "email",
            "stage": "touch_2",
            "touches": 1,
            "connects": 1,
            "connect_rate": 1.0,
            "appointments": 0,
            "appointment_rate": 0.0,
        },
        {
            "template": "total",
            "channel": None,
            "stage": None,
            "touches": 2,
            "connects": 1,
            "connect_rate": 0.5,
            "appointments": 0,
            "appointment_rate": 0.0,
        },
    ]
    raw = client.get("/api/v1/reports/connect-patterns", params={"format": "csv"}).content
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM Excel reads UTF-8 by
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:4] == ["template", "channel", "stage", "touches"]
    assert rows[3] == ["total", "", "", "2", "1", "0.5", "0", "0.0"]
    assert ["# by_stage"] in rows
    xlsx = client.get("/api/v1/reports/connect-patterns", params={"format": "xlsx"})
    book = load_workbook(io.BytesIO(xlsx.content))
    assert book.sheetnames == ["connect-patterns", "by_stage"]
    assert book["connect-patterns"]["A2"].value == "stage1-call-voicemail"
    assert book["connect-patterns"]["D2"].value == 1


def test_touch_with_a_template_and_the_report_from_the_cli(
    db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("LEADOPS_DATABASE_URL", db_url)
    assert runner.invoke(app, ["org", "apply", str(EXAMPLE)]).exit_code == 0
    leads = tmp_path / "leads.csv"
    leads.write_text("email,company\nsuzuki@shoji.co.jp,商事\n", encoding="utf-8")
    assert runner.invoke(app, ["import", "leads", str(leads)]).exit_code == 0
    base = ["touch", "suzuki@shoji.co.jp", "--channel", "email", "--outcome", "sent"]
    done = runner.invoke(app, [*base, "--template", "stage3-industry-case"])
    assert done.exit_code == 0, done.output
    assert "untouched → touch_1" in done.output
    assert "(template stage3-industry-case)" in done.output
    refused = runner.invoke(app, [*base, "--template", "nope"])
    assert refused.exit_code == 2
    assert "template: unknown template 'nope'" in refused.output
    default = runner.invoke(app, base)
    assert "(template stage2-follow-up)" in default.output
    report = runner.invoke(app, ["report", "connect-patterns", "--format", "json"])
    assert report.exit_code == 0, report.output
    data = json.loads(report.output)
    assert [(r["template"], r["stage"], r["touches"]) for r in data["rows"]] == [
        ("stage3-industry-case", "touch_1", 1),
        ("stage2-follow-up", "touch_2", 1),
        ("total", None, 2),
    ]
    table = runner.invoke(app, ["report", "connect-patterns"])
    assert table.exit_code == 0
    assert table.output.startswith("connect-patterns")


def test_the_lead_page_shows_the_next_touchs_playbook_and_the_queue_its_template(
    runtime: Runtime, session: Any
) -> None:
    org = build_org(session, runtime, leads=2)
    rep = signed_in(runtime, org.users["member"])
    lead = org.leads[0]
    page = html.unescape(rep.get(f"/leads/{lead}", params={"lang": "ja"}).text)
    assert "次のタッチのプレイブック" in page
    assert "stage1-call-voicemail" in page
    assert "【株式会社顧客0様】10分ほどお時間をいただけないでしょうか" in page
    assert "株式会社顧客0\n顧客0様\n\nお世話になっております。Member です。" not in page
    assert "お世話になっております。Memberです。" in page  # the owner's name
    # Chosen by its playbook's line in the reader's language, not by its name.
    assert '<option value="stage1-call-voicemail" selected>電話+メールでアプローチ。' in page
    assert ">stage1-call-voicemail</option>" not in page
    english = html.unescape(rep.get(f"/leads/{lead}", params={"lang": "en"}).text)
    assert "Playbook for the next touch" in english
    assert "株式会社顧客0: could you spare ten minutes?" in english
    assert '<option value="stage2-follow-up">Within 48 hours of stage 1' in english
    queue = rep.get("/queue").text
    assert queue.count('data-template="stage1-call-voicemail">') == 2

    row = rep.post(
        f"/leads/{lead}/touch", data={"channel": "call", "outcome": "no_answer", "view": "queue"}
    )
    assert 'data-template="stage2-follow-up">' in row.text  # the next touch's
    logged = rep.post(
        f"/leads/{lead}/touch",
        data={"channel": "email", "outcome": "sent", "template": "stage4-anything-needed"},
    )
    assert logged.status_code == 200
    assert "stage3-industry-case" in logged.text  # the playbook after touch_2
    refused = rep.post(
        f"/leads/{lead}/touch", data={"channel": "email", "outcome": "sent", "template": "x"}
    )
    assert refused.status_code == 422
    assert "<code>template</code>" in refused.text
    stored = session.scalars(
        select(Touch.template).where(Touch.lead_id == lead).order_by(Touch.id)
    ).all()
    assert stored == ["stage1-call-voicemail", "stage4-anything-needed"]


def test_the_report_page_has_its_table_and_chart(runtime: Runtime, session: Any) -> None:
    org = build_org(session, runtime, leads=1)
    rep = signed_in(runtime, org.users["member"])
    rep.post(f"/leads/{org.leads[0]}/touch", data={"channel": "call", "outcome": "connected"})
    page = rep.get("/reports/connect-patterns", params={"lang": "ja"})
    assert page.status_code == 200
    option = page.text.split('<script type="application/json" id="chart-option">')[1]
    chart = json.loads(option.split("</script>")[0])
    assert [s["name"] for s in chart["series"]] == ["コネクト率 %", "アポイント率 %", "タッチ数"]
    assert chart["series"][0]["data"] == [100.0]
    assert "<td>stage1-call-voicemail</td>" in page.text
    assert "/api/v1/reports/connect-patterns?&amp;format=xlsx" in page.text
    index = rep.get("/reports", params={"lang": "ja"}).text
    assert "/reports/connect-patterns" in index
