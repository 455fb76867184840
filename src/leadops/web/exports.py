"""CSV downloads as Excel opens them: UTF-8 with a BOM by default, Shift_JIS with
``?encoding=shift_jis`` (docs/exports.md); one helper for every CSV the app sends."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Annotated, Literal

from fastapi import Query
from fastapi.responses import Response, StreamingResponse

from leadops.cells import CSV_CHARSETS, csv_bytes
from leadops.web.render import N_

#: The leads.csv headers no other page names (the catalogs give each its label).
LEAD_COLUMNS = (N_("id"), N_("last_name"), N_("first_name"), N_("last_activity_at"))

CsvEncoding = Annotated[
    Literal["utf-8", "shift_jis"],
    Query(
        description="utf-8 (with a BOM, the default) or shift_jis (characters Shift_JIS "
        "cannot hold become ?)"
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
