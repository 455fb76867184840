"""Every bad input gets a precise message, and the good rows around it still go in."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select

from leadops.ingest.importer import run_import
from leadops.ingest.mappings import resolve_mapping
from leadops.models import Activity, ImportReject, Lead
from leadops.runtime import Runtime


def import_file(runtime: Runtime, kind: str, path: Path):  # type: ignore[no-untyped-def]
    return run_import(
        kind, path, resolve_mapping(None, kind), runtime.factory, runtime.settings, runtime.clock
    )


def event(i: int, **over: object) -> dict[str, object]:
    return {
        "email": f"p{i}@x.co.jp",
        "type": "page_view",
        "occurred_at": "2026-11-20T10:00:00+09:00",
        "properties": {"url": "/pricing"},
        "external_id": f"e-{i}",
        **over,
    }


def test_each_kind_of_bad_line_is_named_and_the_rest_is_taken(
    runtime: Runtime, tmp_path: Path
) -> None:
    lines = [
        json.dumps(event(1)),
        '{"email": "p2@x.co.jp", "type": "page_view"',  # malformed JSON
        json.dumps(event(3, type="carrier_pigeon")),  # unknown type
        json.dumps(event(4, email=None)),  # missing email
        json.dumps(event(5, occurred_at="2031-01-01T00:00:00+09:00")),  # future beyond tolerance
        json.dumps(event(6, occurred_at="31/31/2026")),  # not a date
        json.dumps(event(7, properties="url=/pricing")),  # properties not an object
        json.dumps(event(8)),
    ]
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    summary = import_file(runtime, "events", path)
    assert (summary.taken, summary.rejected) == (2, 6)
    by_row = {r.row: r for r in summary.rejects}
    assert "not valid JSON" in by_row[2].error
    assert by_row[3].field == "type"
    assert "carrier_pigeon" in by_row[3].error
    assert by_row[4].field == "email"
    assert "missing" in by_row[4].error
    assert by_row[5].field == "occurred_at"
    assert "in the future" in by_row[5].error
    assert by_row[6].field == "occurred_at"
    assert "31/31/2026" in by_row[6].error
    assert by_row[7].field == "properties"
    with runtime.factory() as session:
        assert session.scalar(select(func.count()).select_from(Activity)) == 2
        raw = session.scalars(select(ImportReject.raw).where(ImportReject.row_number == 3)).one()
        assert raw["type"] == "carrier_pigeon"  # the rejected row is kept as sent


def test_a_file_in_the_wrong_encoding_for_some_rows(runtime: Runtime, tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    path.write_bytes(
        b"email,company\n"
        + "a@x.co.jp,株式会社エー\n".encode()
        + b"b@x.co.jp,"
        + "株式会社ビー".encode("cp932")
        + b"\n"
        + "c@x.co.jp,株式会社シー\n".encode()
    )
    summary = import_file(runtime, "leads", path)
    assert (summary.encoding, summary.taken, summary.rejected) == ("utf-8", 2, 1)
    assert summary.rejects[0].row == 3
    assert summary.rejects[0].field == "company"
    assert "not valid utf-8" in summary.rejects[0].error


def test_a_missing_email_in_a_lead_file(runtime: Runtime, tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    path.write_text("email,company\n,株式会社エー\nb@x.co.jp,株式会社ビー\n", encoding="utf-8")
    summary = import_file(runtime, "leads", path)
    assert (summary.taken, summary.rejected) == (1, 1)
    assert summary.rejects[0].error.startswith("email: missing: a lead needs an e-mail address")


def test_a_50_mb_file_streams_in_with_its_one_bad_line_rejected(
    runtime: Runtime, tmp_path: Path
) -> None:
    path = tmp_path / "big.jsonl"
    padding = "x" * 10_000
    with path.open("w", encoding="utf-8") as fh:
        for i in range(5_000):
            item = (
                event(i, properties={"url": "/blog/", "note": padding})
                if i != 2_500
                else event(i, type="nope")
            )
            fh.write(json.dumps(item) + "\n")
    assert path.stat().st_size > 50_000_000
    summary = import_file(runtime, "events", path)
    assert (summary.total, summary.taken, summary.rejected) == (5_000, 4_999, 1)
    assert summary.rejects[0].row == 2_501
    with runtime.factory() as session:
        # The rejected line's person never became a lead; everyone else did.
        assert session.scalar(select(func.count()).select_from(Lead)) == 4_999
        assert session.scalar(select(func.count()).select_from(Activity)) == 4_999
