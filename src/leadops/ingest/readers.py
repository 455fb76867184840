"""Reading rows from CSV, TSV, XLSX and JSON Lines files, streaming, with exact row numbers.

Encodings are detected (UTF-8, UTF-8 with BOM, UTF-16 with BOM, Shift_JIS/CP932). Bytes that are
not valid in the detected encoding do not stop the file: the row they are in comes out with an error
naming the row and column, and every other row is read.
"""

from __future__ import annotations

import codecs
import csv
import json
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

SURROGATE_MIN, SURROGATE_MAX = "\udc80", "\udcff"
_SURROGATE_RE = re.compile("[\udc80-\udcff]")
SUPPORTED = ".csv, .tsv, .txt, .xlsx, .jsonl, .ndjson or .json"


@dataclass
class Row:
    """One input row: its number in the file (the header is row 1; JSON Lines count lines)."""

    number: int
    data: dict[str, Any]
    error: str | None = None
    column: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)


class FileFormatError(ValueError):
    """The file as a whole cannot be read (not a row: the whole file)."""


def _bad_bytes(path: Path, encoding: str) -> tuple[int, int]:
    """(bytes that do not decode in ``encoding``, non-ASCII bytes) over the whole file."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="surrogateescape")
    bad = non_ascii = 0
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            non_ascii += len(chunk) - len(chunk.decode("ascii", errors="ignore"))
            text = decoder.decode(chunk)
            bad += sum(1 for ch in text if SURROGATE_MIN <= ch <= SURROGATE_MAX)
        text = decoder.decode(b"", final=True)
        bad += sum(1 for ch in text if SURROGATE_MIN <= ch <= SURROGATE_MAX)
    return bad, non_ascii


def detect_encoding(path: Path) -> str:
    """utf-8-sig, utf-16, utf-8 or cp932 (Excel's Shift_JIS).

    UTF-8 bytes often happen to decode as CP932 (as mojibake), so UTF-8 is chosen whenever most
    of the non-ASCII text is valid UTF-8: a few bad rows are then rejected one by one. Real
    Shift_JIS text is almost never valid UTF-8.
    """
    with path.open("rb") as fh:
        head = fh.read(4)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    bad_utf8, non_ascii = _bad_bytes(path, "utf-8")
    if bad_utf8 == 0 or bad_utf8 < 0.2 * non_ascii:
        return "utf-8"
    bad_cp932, _ = _bad_bytes(path, "cp932")
    return "cp932" if bad_cp932 <= bad_utf8 else "utf-8"


def _clean(value: str) -> tuple[str, int | None]:
    """Replace undecodable bytes (surrogate escapes) and say where the first one was."""
    found = _SURROGATE_RE.search(value)
    if found is None:
        return value, None
    return _SURROGATE_RE.sub("\ufffd", value), found.start()


def normalize_header(name: str) -> str:
    return unicodedata.normalize("NFKC", name).strip().strip("\ufeff").strip()


def unique_names(headers: list[str]) -> list[str]:
    """Each header once, as written: a repeated one gets its count (``Create Date``, ``Create Date
    (2)``), an empty one its position (``column 3``)."""
    names: list[str] = []
    taken: set[str] = set()
    for position, header in enumerate(headers, start=1):
        name = header if header.strip() else f"column {position}"
        count = 1
        while name in taken:
            count += 1
            name = f"{header} ({count})"
        taken.add(name)
        names.append(name)
    return names


@dataclass(frozen=True)
class Header:
    """A file's columns: ``names`` key each row's data (NFKC, trimmed), ``raw`` its raw content
    (the header as written); both keep repeated headers apart."""

    names: list[str]
    raw: list[str]

    @classmethod
    def of(cls, headers: list[str]) -> Header:
        return cls(unique_names([normalize_header(h) for h in headers]), unique_names(headers))

    def name(self, position: int, raw: bool = False) -> str:
        names = self.raw if raw else self.names
        return names[position] if position < len(names) else f"column {position + 1}"


def _open_text(path: Path, encoding: str) -> IO[str]:
    return path.open("r", encoding=encoding, errors="surrogateescape", newline="")


def _csv_header(fh: IO[str], path: Path) -> tuple[Any, Header] | None:
    """The csv reader (delimiter guessed from the first line: ``,``, tab or ``;``) and the header,
    or None for an empty file."""
    sample = fh.read(64 * 1024)
    fh.seek(0)
    first_line = sample.splitlines()[0] if sample else ""
    delimiter = max([",", "\t", ";"], key=first_line.count) if first_line else ","
    reader = csv.reader(fh, delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        return None
    texts = [_clean(h)[0].lstrip("\ufeff") for h in header]
    if not any(t.strip() for t in texts):
        raise FileFormatError(f"{path.name}: row 1 should be a header with column names")
    return reader, Header.of(texts)


def read_csv(path: Path, encoding: str) -> Iterator[Row]:
    """Rows numbered by the physical line each record starts on (a quoted cell may hold line
    breaks); the raw row keeps every value as read, repeated columns included."""
    with _open_text(path, encoding) as fh:
        opened = _csv_header(fh, path)
        if opened is None:
            return
        reader, header = opened
        while True:
            number = reader.line_num + 1
            try:
                values = next(reader)
            except StopIteration:
                return
            if any(v.strip() for v in values):
                yield _csv_row(number, values, header, encoding)


def _csv_row(number: int, values: list[str], header: Header, encoding: str) -> Row:
    data: dict[str, Any] = {}
    raw: dict[str, Any] = {}
    error = bad_field = None
    names, raws = header.names, header.raw
    for position, value in enumerate(values):
        text, bad_at = _clean(value)
        if position < len(names) and position < len(raws):
            name = names[position]
            raw[raws[position]] = text
        else:
            name = header.name(position)
            raw[header.name(position, raw=True)] = text
        data[name] = text
        if bad_at is not None and error is None:
            bad_field = name
            error = (
                f"column {name!r} has bytes that are not valid {encoding} at character "
                f"{bad_at + 1}; save the file as UTF-8 or Shift_JIS and import it again"
            )
    if len(values) > len(header.names) and error is None:
        error = f"{len(values)} values but the header has {len(header.names)} columns"
    return Row(number, data, error, bad_field, raw=raw)


def _open_sheet(path: Path, sheet: str | None) -> tuple[Any, Iterator[tuple[Any, ...]]]:
    """The workbook (to close) and the rows of its sheet (the first one unless named)."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise FileFormatError(f"{path.name}: not a readable XLSX workbook ({exc})") from exc
    if sheet is not None and sheet not in workbook.sheetnames:
        workbook.close()
        raise FileFormatError(f"{path.name}: no sheet {sheet!r}; sheets are {workbook.sheetnames}")
    worksheet = workbook[sheet] if sheet else workbook.worksheets[0]
    return workbook, worksheet.iter_rows(values_only=True)


def _sheet_header(values: tuple[Any, ...]) -> Header:
    return Header.of(["" if h is None else str(h) for h in values])


def read_xlsx(path: Path, sheet: str | None = None) -> Iterator[Row]:
    workbook, rows = _open_sheet(path, sheet)
    try:
        header = next(rows, None)
        if header is None:
            return
        names = _sheet_header(header)
        for number, values in enumerate(rows, start=2):
            if values is None or all(
                v is None or (isinstance(v, str) and not v.strip()) for v in values
            ):
                continue
            data = {names.name(i): v for i, v in enumerate(values) if v is not None}
            raw = {
                names.name(i, raw=True): (v.isoformat() if hasattr(v, "isoformat") else v)
                for i, v in enumerate(values)
                if v is not None
            }
            yield Row(number, data, raw=raw)
    finally:
        workbook.close()


def read_jsonl(path: Path, encoding: str) -> Iterator[Row]:
    with _open_text(path, encoding) as fh:
        first = fh.read(1)
        while first and first.isspace():
            first = fh.read(1)
        fh.seek(0)
        if first == "[":
            yield from _read_json_array(fh, path)
            return
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            text, bad_at = _clean(line.rstrip("\r\n"))
            if bad_at is not None:
                yield Row(
                    number,
                    {},
                    f"bytes that are not valid {encoding} at character {bad_at + 1}",
                    raw={"line": text},
                )
                continue
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                yield Row(
                    number,
                    {},
                    f"not valid JSON: {exc.msg} at column {exc.colno}",
                    raw={"line": text},
                )
                continue
            if not isinstance(value, dict):
                yield Row(
                    number,
                    {},
                    f"expected a JSON object, got {type(value).__name__}",
                    raw={"line": text},
                )
                continue
            yield Row(number, value, raw=value)


def _read_json_array(fh: IO[str], path: Path) -> Iterator[Row]:
    try:
        items = json.load(fh)
    except json.JSONDecodeError as exc:
        raise FileFormatError(
            f"{path.name}: not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from exc
    for index, item in enumerate(items, start=1):
        if isinstance(item, dict):
            yield Row(index, item, raw=item)
        else:
            yield Row(index, {}, f"item {index} is not a JSON object", raw={"item": item})


def file_kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in {".csv", ".tsv", ".txt"}:
        return "csv"
    if suffix in {".xlsx", ".xlsm"}:
        return "xlsx"
    if suffix in {".jsonl", ".ndjson", ".json"}:
        return "jsonl"
    if suffix == ".xls":
        raise FileFormatError(
            f"{path.name}: the old .xls format is not supported; save it as .xlsx or CSV"
        )
    raise FileFormatError(f"{path.name}: unknown file type {suffix!r}; use {SUPPORTED}")


def _encoding_of(path: Path, encoding: str | None) -> str:
    enc = encoding or detect_encoding(path)
    try:
        codecs.lookup(enc)
    except LookupError:
        raise FileFormatError(f"unknown encoding {enc!r}") from None
    return enc


def _kind_of(path: Path) -> str:
    if not path.exists():
        raise FileFormatError(f"{path}: no such file")
    return file_kind(path)


def read_rows(
    path: Path, *, encoding: str | None = None, sheet: str | None = None
) -> tuple[str | None, Iterator[Row]]:
    """The detected (or given) encoding and an iterator over the file's rows."""
    kind = _kind_of(path)
    if kind == "xlsx":
        return None, read_xlsx(path, sheet)
    enc = _encoding_of(path, encoding)
    if kind == "csv":
        return enc, read_csv(path, enc)
    return enc, read_jsonl(path, enc)


def read_columns(path: Path, *, encoding: str | None = None, sheet: str | None = None) -> list[str]:
    """The names the rows' data are keyed by, in the file's order: the header of a CSV or a sheet
    (repeated headers kept apart), every key of the objects of JSON Lines."""
    kind = _kind_of(path)
    if kind == "xlsx":
        workbook, rows = _open_sheet(path, sheet)
        try:
            first = next(rows, None)
            return [] if first is None else _sheet_header(first).names
        finally:
            workbook.close()
    enc = _encoding_of(path, encoding)
    if kind == "csv":
        with _open_text(path, enc) as fh:
            opened = _csv_header(fh, path)
            return [] if opened is None else opened[1].names
    names: dict[str, None] = {}
    for row in read_jsonl(path, enc):
        names.update(dict.fromkeys(str(k) for k in row.data))
    return list(names)
