from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from leadops.ingest.readers import FileFormatError, detect_encoding, read_columns, read_rows

HEADER = "メールアドレス,会社名,都道府県\n"
BODY = (
    "taro@example.co.jp,株式会社サンプル,大阪府\nhanako@example.co.jp,テスト工業株式会社,東京都\n"
)


@pytest.mark.parametrize(
    ("encoding", "bom", "expected"),
    [
        ("utf-8", b"", "utf-8"),
        ("utf-8", b"\xef\xbb\xbf", "utf-8-sig"),
        ("cp932", b"", "cp932"),
        ("shift_jis", b"", "cp932"),
    ],
)
def test_encodings_are_detected(tmp_path: Path, encoding: str, bom: bytes, expected: str) -> None:
    path = tmp_path / "leads.csv"
    path.write_bytes(bom + (HEADER + BODY).encode(encoding))
    assert detect_encoding(path) == expected
    used, rows = read_rows(path)
    data = [r.data for r in rows]
    assert used == expected
    assert data[0] == {
        "メールアドレス": "taro@example.co.jp",
        "会社名": "株式会社サンプル",
        "都道府県": "大阪府",
    }
    assert data[1]["会社名"] == "テスト工業株式会社"


def test_cp932_specific_characters_are_read(tmp_path: Path) -> None:
    """㈱ and ① exist in CP932 (Excel's Shift_JIS), not in strict Shift_JIS."""
    path = tmp_path / "leads.csv"
    path.write_bytes("会社名,メモ\n㈱サンプル,①最優先\n".encode("cp932"))
    _, rows = read_rows(path)
    assert next(iter(rows)).data == {"会社名": "㈱サンプル", "メモ": "①最優先"}


def test_utf16_tab_separated_excel_unicode_text(tmp_path: Path) -> None:
    path = tmp_path / "leads.txt"
    path.write_bytes(("email\tcompany\ntaro@example.co.jp\t株式会社サンプル\n").encode("utf-16"))
    used, rows = read_rows(path)
    assert used == "utf-16"
    assert next(iter(rows)).data == {"email": "taro@example.co.jp", "company": "株式会社サンプル"}


def test_a_row_with_bytes_of_another_encoding_is_rejected_alone(tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    good = (HEADER + BODY).encode("utf-8")
    bad_line = b"jiro@example.co.jp," + "株式会社シフト".encode("cp932") + b",\xe4\xba\xac\n"
    path.write_bytes(good + bad_line + "saburo@example.co.jp,ABC,京都府\n".encode())
    used, rows = read_rows(path)
    result = list(rows)
    assert used == "utf-8"
    assert [r.error is None for r in result] == [True, True, False, True]
    bad = result[2]
    assert bad.number == 4
    assert bad.column == "会社名"
    assert "not valid utf-8" in (bad.error or "")
    assert result[3].data["メールアドレス"] == "saburo@example.co.jp"


def test_too_many_values_in_a_row_is_named(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("email,company\na@example.co.jp,A,extra\n", encoding="utf-8")
    _, rows = read_rows(path)
    row = next(iter(rows))
    assert row.error == "3 values but the header has 2 columns"


def test_a_rows_number_is_the_line_its_record_starts_on(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text(
        'email,note\na@example.co.jp,"two\nlines"\n\nb@example.co.jp,"three\nmore\nlines"\n'
        "c@example.co.jp,x\n",
        encoding="utf-8",
    )
    _, rows = read_rows(path)
    assert [(r.number, r.data["email"]) for r in rows] == [
        (2, "a@example.co.jp"),
        (5, "b@example.co.jp"),
        (8, "c@example.co.jp"),
    ]


def test_json_lines_report_the_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    lines = [
        json.dumps({"email": "a@example.co.jp", "type": "page_view"}),
        '{"email": "b@example.co.jp", "type": ',
        "[1, 2]",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _, rows = read_rows(path)
    result = list(rows)
    assert result[0].error is None
    assert result[1].number == 2
    assert "not valid JSON" in (result[1].error or "")
    assert "column" in (result[1].error or "")
    assert result[2].error == "expected a JSON object, got list"


def test_xlsx_rows_keep_their_sheet_row_numbers_and_types(tmp_path: Path) -> None:
    path = tmp_path / "leads.xlsx"
    book = Workbook()
    sheet = book.active
    sheet.append(["email", "会社名", "作成日", "従業員数"])
    sheet.append(["taro@example.co.jp", "株式会社サンプル", datetime(2024, 4, 1, 10, 0), 120])
    sheet.append([None, None, None, None])
    sheet.append(["hanako@example.co.jp", "テスト株式会社", "2024/04/02", "1,200"])
    book.save(path)
    used, rows = read_rows(path)
    result = list(rows)
    assert used is None
    assert [r.number for r in result] == [2, 4]
    assert result[0].data["作成日"] == datetime(2024, 4, 1, 10, 0)
    assert result[0].data["従業員数"] == 120


def test_unsupported_files_say_what_is_supported(tmp_path: Path) -> None:
    (tmp_path / "a.xls").write_bytes(b"\xd0\xcf")
    (tmp_path / "a.pdf").write_bytes(b"%PDF")
    with pytest.raises(FileFormatError, match="save it as .xlsx or CSV"):
        read_rows(tmp_path / "a.xls")
    with pytest.raises(FileFormatError, match=r"\.csv"):
        read_rows(tmp_path / "a.pdf")
    with pytest.raises(FileFormatError, match="no such file"):
        read_rows(tmp_path / "missing.csv")


def test_repeated_headers_are_kept_apart_in_the_data_and_the_raw_row(tmp_path: Path) -> None:
    path = tmp_path / "contacts.csv"
    path.write_text(
        "Record ID,Create Date,Company name,Create Date,Ｅｍａｉｌ , \n"
        "101,2/5/24 1:51,Acme,1/9/23 8:00,a@acme.example,x\n",
        encoding="utf-8",
    )
    columns = read_columns(path)
    assert columns == [
        "Record ID",
        "Create Date",
        "Company name",
        "Create Date (2)",
        "Email",
        "column 6",
    ]
    row = next(iter(read_rows(path)[1]))
    assert row.data["Create Date"] == "2/5/24 1:51"
    assert row.data["Create Date (2)"] == "1/9/23 8:00"
    assert list(row.raw) == [
        "Record ID",
        "Create Date",
        "Company name",
        "Create Date (2)",
        "Ｅｍａｉｌ ",
        "column 6",
    ]
    assert list(row.raw.values()) == [
        "101",
        "2/5/24 1:51",
        "Acme",
        "1/9/23 8:00",
        "a@acme.example",
        "x",
    ]


def test_a_semicolon_report_with_multi_line_cells_keeps_each_record_whole(tmp_path: Path) -> None:
    path = tmp_path / "report.csv"
    path.write_text(
        'Lead Owner;Description;Lead owner\n"Yamada Taro";"line one; still\n""quoted""\nend";'
        "Sato\n",
        encoding="utf-8",
    )
    row = next(iter(read_rows(path)[1]))
    assert row.number == 2
    assert row.data == {
        "Lead Owner": "Yamada Taro",
        "Description": 'line one; still\n"quoted"\nend',
        "Lead owner": "Sato",
    }


def test_xlsx_columns_and_repeated_headers(tmp_path: Path) -> None:
    path = tmp_path / "list.xlsx"
    book = Workbook()
    sheet = book.active
    sheet.append(["姓", "名", "作成日", "作成日", None])
    sheet.append(["山田", "太郎", "2024/04/01", "2020/01/01", "memo"])
    book.save(path)
    assert read_columns(path) == ["姓", "名", "作成日", "作成日 (2)", "column 5"]
    row = next(iter(read_rows(path)[1]))
    assert row.data["作成日 (2)"] == "2020/01/01"
    assert row.raw["column 5"] == "memo"
