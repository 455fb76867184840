"""Downloads as Excel opens them (docs/exports.md): CSV in UTF-8 with a BOM by default, Shift_JIS
with ``?encoding=shift_jis``, one helper for every CSV the app sends; XLSX with typed cells, its
headers and codes in the reader's language when the request names one (``?lang=``)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Annotated, Literal

from fastapi import Query, Request
from fastapi.responses import Response, StreamingResponse
from sqlalchemy.orm import Session

from leadops.cells import CSV_CHARSETS, csv_bytes
from leadops.reports.base import ReportResult
from leadops.reports.export import to_xlsx
from leadops.rules.service import active_rules
from leadops.runtime import Runtime
from leadops.web.render import N_, status_labels, translator
from leadops.web.report_words import ReportWords

#: The leads.csv headers no other page names (the catalogs give each its label).
LEAD_COLUMNS = (N_("id"), N_("last_name"), N_("first_name"), N_("last_activity_at"))

CsvEncoding = Annotated[
    Literal["utf-8", "shift_jis"],
    Query(
        description="utf-8 (with a BOM, the default) or shift_jis (characters Shift_JIS "
        "cannot hold become ?)"
    ),
]


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

XlsxLang = Annotated[
    Literal["ja", "en"] | None,
    Query(
        description="xlsx: headers, sheet names and codes in this language (the report's keys "
        "and codes when not given)"
    ),
]


def _headers(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{filename}"'}


def csv_response(text: str, filename: str, encoding: str = "utf-8") -> Response:
    return Response(
        csv_bytes(text, encoding),
        media_type=f"text/csv; charset={CSV_CHARSETS[encoding]}",
        headers=_headers(filename),
    )


def csv_stream(chunks: Iterable[str], filename: str, encoding: str = "utf-8") -> StreamingResponse:
    """A CSV sent as it is written: the BOM (UTF-8) once, then each chunk encoded."""

    def body() -> Iterator[bytes]:
        first = True
        for chunk in chunks:
            data = csv_bytes(chunk, encoding)
            if not first and encoding == "utf-8":
                data = data.removeprefix("\ufeff".encode())
            first = False
            yield data

    return StreamingResponse(
        body(), media_type=f"text/csv; charset={CSV_CHARSETS[encoding]}", headers=_headers(filename)
    )


def xlsx_response(content: bytes, filename: str) -> Response:
    return Response(content, media_type=XLSX_TYPE, headers=_headers(filename))


def report_xlsx(
    request: Request, session: Session, runtime: Runtime, result: ReportResult, lang: str | None
) -> Response:
    """A report as an XLSX download: cells typed, times in the configured zone; with ``lang``
    (the request's ``?lang=``), headers as labels and codes as words of that language."""
    if lang is None:
        content = to_xlsx(result, tz=runtime.settings.tz)
    else:
        t = translator(request)
        labels = status_labels(active_rules(session, runtime.clock.now()), t.locale)
        words = ReportWords(t, labels)
        content = to_xlsx(result, tz=runtime.settings.tz, label=words.column, word=words.word)
    return xlsx_response(content, f"{result.name}.xlsx")
