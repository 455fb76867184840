"""All-number dates are read by column: one order for the whole column, decided by its values."""

from __future__ import annotations

import pytest

from leadops.ingest.dates import ColumnSurvey, DateColumns, fallback_order, year_of


def _decide(values: list[str], fallback: str = "mdy") -> tuple[str, str | None]:
    survey = ColumnSurvey("Create Date")
    for row, value in enumerate(values, start=2):
        survey.add(row, value)
    return survey.decide(fallback)


def test_a_day_above_12_anywhere_in_the_column_makes_the_whole_column_day_first() -> None:
    order, note = _decide(["2-7-2018", "5-3-2019", "26-6-2018"])
    assert order == "dmy"
    assert note == "column 'Create Date': dates read day first (D/M/Y) (26-6-2018 on row 4)"
    data, problems = DateColumns({"Create Date": order}).rewrite({"Create Date": "2-7-2018"})
    assert (data["Create Date"], problems) == ("2018-07-02T00:00:00", {})


def test_a_second_part_above_12_makes_the_column_month_first_with_two_digit_years() -> None:
    order, _ = _decide(["2/5/24 1:51", "12/28/23 9:05 PM", "3/4/24 10:00"])
    assert order == "mdy"
    columns = DateColumns({"Create Date": order})
    assert columns.rewrite({"Create Date": "2/5/24 1:51"})[0]["Create Date"] == (
        "2024-02-05T01:51:00"
    )
    assert columns.rewrite({"Create Date": "12/28/23 9:05 PM"})[0]["Create Date"] == (
        "2023-12-28T21:05:00"
    )


@pytest.mark.parametrize(
    ("year", "expected"), [("68", 2068), ("69", 1969), ("99", 1999), ("00", 2000), ("2024", 2024)]
)
def test_two_digit_years_pivot_as_pythons_percent_y(year: str, expected: int) -> None:
    assert year_of(year) == expected


def test_a_column_no_value_decides_is_reported_once_with_its_rows_and_read_one_way() -> None:
    order, note = _decide(["1/2/2024", "3/4/2024", "5/6/2024"], fallback=fallback_order("dmy"))
    assert order == "dmy"
    assert note is not None
    assert note.startswith(
        "column 'Create Date': no date says whether it is day or month first (rows 2, 3, 4); "
        "read day first (D/M/Y) by date_order"
    )
    assert _decide(["1/2/2024"], fallback=fallback_order("ymd"))[0] == "mdy"


def test_a_column_whose_values_disagree_is_read_the_way_most_are_and_never_the_other() -> None:
    order, note = _decide(["26/6/2018", "30/7/2018", "6/26/2018"])
    assert order == "dmy"
    assert note is not None
    assert "rows 4 cannot be read so" in note
    data, problems = DateColumns({"Create Date": order}).rewrite(
        {"Create Date": "6/26/2018", "Email": "a@x.example"}
    )
    assert data == {"Email": "a@x.example"}  # left out: not read as 26 June
    assert "'6/26/2018' is not a date when read day first" in problems["Create Date"]


def test_other_dates_are_left_to_the_usual_parser() -> None:
    columns = DateColumns({"作成日": "mdy"})
    for value in ("2024/04/01", "2024-04-01T10:00:00+09:00", "令和6年4月1日", "Apr 1, 2024"):
        assert columns.rewrite({"作成日": value}) == ({"作成日": value}, {})
    survey = ColumnSurvey("作成日")
    survey.add(2, "2024/13/01")
    assert survey.decide("mdy") == ("mdy", None)
