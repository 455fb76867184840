from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadops.ingest.accounts import company_domain
from leadops.normalize import (
    check_not_future,
    check_text,
    is_free_mail,
    json_problem,
    normalize_company,
    normalize_email,
    parse_datetime,
    parse_int,
    scrubbed,
    text_problem,
)

JST = ZoneInfo("Asia/Tokyo")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Taro@Example.CO.JP", "taro@example.co.jp"),
        ("  taro@example.co.jp \t", "taro@example.co.jp"),
        ("ｔａｒｏ＠ｅｘａｍｐｌｅ．ｃｏ．ｊｐ", "taro@example.co.jp"),
        ("mailto:Hanako@Example.com", "hanako@example.com"),
    ],
)
def test_emails_are_normalized_for_matching(raw: str, expected: str) -> None:
    assert normalize_email(raw) == expected


@pytest.mark.parametrize(
    "bad", ["", "taro", "taro@", "@example.com", "taro@example", "a b@example.com", "a..b@x.jp"]
)
def test_a_bad_email_is_refused_naming_it(bad: str) -> None:
    with pytest.raises(ValueError, match="not an e-mail address"):
        normalize_email(bad)


@pytest.mark.parametrize(
    "name",
    [
        "株式会社サンプル",
        "サンプル株式会社",
        "(株)サンプル",
        "㈱サンプル",
        "サンプル（株）",
        "ｻﾝﾌﾟﾙ株式会社",
        "株式会社 サンプル",
    ],
)
def test_japanese_legal_forms_do_not_split_a_company(name: str) -> None:
    assert normalize_company(name) == "サンプル"


@pytest.mark.parametrize(
    "name",
    ["Sample Inc.", "Sample, Inc.", "SAMPLE Co., Ltd.", "Sample Co.,Ltd.", "sample corporation"],
)
def test_western_legal_forms_do_not_split_a_company(name: str) -> None:
    assert normalize_company(name) == "sample"


def test_a_name_that_is_only_a_legal_form_is_kept() -> None:
    assert normalize_company("株式会社") == "株式会社"


def test_free_mail_domains_never_name_a_company() -> None:
    for email in ["a@gmail.com", "b@yahoo.co.jp", "c@outlook.jp", "d@docomo.ne.jp"]:
        assert is_free_mail(email)
        assert company_domain(email, None) is None
    assert company_domain("e@sample.co.jp", None) == "sample.co.jp"
    assert company_domain("e@gmail.com", "https://www.Sample.co.jp/about") == "sample.co.jp"


@pytest.mark.parametrize(
    ("raw", "expected_jst"),
    [
        ("2024-04-01", datetime(2024, 4, 1)),
        ("2024-04-01 10:30:00", datetime(2024, 4, 1, 10, 30)),
        ("2024/04/01", datetime(2024, 4, 1)),
        ("2024/4/1 9:05", datetime(2024, 4, 1, 9, 5)),
        ("2024.04.01", datetime(2024, 4, 1)),
        ("2024年4月1日", datetime(2024, 4, 1)),
        ("2024年4月1日(月) 10時30分", datetime(2024, 4, 1, 10, 30)),
        ("２０２４年４月１日", datetime(2024, 4, 1)),
        ("令和6年4月1日", datetime(2024, 4, 1)),
        ("令和元年5月1日", datetime(2019, 5, 1)),
        ("平成31年4月30日", datetime(2019, 4, 30)),
        ("R6.4.1", datetime(2024, 4, 1)),
        ("04/01/2024", datetime(2024, 4, 1)),
        ("13/01/2024", datetime(2024, 1, 13)),
        ("Apr 1, 2024", datetime(2024, 4, 1)),
        ("4/1/2024 3:15 PM", datetime(2024, 4, 1, 15, 15)),
    ],
)
def test_dates_as_people_and_exports_write_them(raw: str, expected_jst: datetime) -> None:
    assert parse_datetime(raw, tz=JST, date_order="mdy") == expected_jst.replace(
        tzinfo=JST
    ).astimezone(UTC)


def test_an_explicit_offset_wins_over_the_local_zone() -> None:
    assert parse_datetime("2024-04-01T10:00:00Z", tz=JST) == datetime(2024, 4, 1, 10, tzinfo=UTC)
    assert parse_datetime("2024-04-01T10:00:00+09:00", tz=JST) == datetime(
        2024, 4, 1, 1, tzinfo=UTC
    )


def test_day_first_order_when_configured() -> None:
    assert parse_datetime("04/01/2024", tz=JST, date_order="dmy").date().isoformat() == "2024-01-03"


@pytest.mark.parametrize(
    "bad", ["yesterday", "2024-13-01", "2024/02/30", "1/2/24", "令和6年13月1日"]
)
def test_a_bad_date_says_what_was_expected(bad: str) -> None:
    with pytest.raises(ValueError, match="2024-04-01"):
        parse_datetime(bad, tz=JST)


def test_future_dates_beyond_tolerance_are_refused() -> None:
    now = datetime(2026, 11, 23, tzinfo=UTC)
    check_not_future(now + timedelta(hours=23), now, timedelta(hours=24))
    with pytest.raises(ValueError, match="in the future"):
        check_not_future(now + timedelta(hours=25), now, timedelta(hours=24))


@given(st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1)))
def test_any_iso_time_round_trips(moment: datetime) -> None:
    moment = moment.replace(microsecond=0)
    assert parse_datetime(moment.isoformat(), tz=JST) == moment.replace(tzinfo=JST).astimezone(UTC)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1,200", 1200), ("１２００", 1200), ("1200.0", 1200), (" ", None), (50, 50), ("300名", 300)],
)
def test_employee_counts_are_read_like_people_write_them(raw: object, expected: int | None) -> None:
    assert parse_int(raw) == expected


def test_a_fraction_is_not_a_head_count() -> None:
    with pytest.raises(ValueError, match="whole number"):
        parse_int("12.5")


@pytest.mark.parametrize("raw", [str(2**63), 2**63, float(2**64), "9" * 30, "9" * 5000])
def test_a_whole_number_beyond_64_bits_is_out_of_range(raw: object) -> None:
    with pytest.raises(ValueError, match="is out of range: the most is 9,223,372,036,854,775,807"):
        parse_int(raw)
    assert parse_int(str(2**63 - 1)) == 2**63 - 1


def test_the_most_a_number_may_be_is_the_callers_to_say() -> None:
    assert parse_int("10,000,000名", most=10_000_000) == 10_000_000
    with pytest.raises(ValueError, match="^10000001 is out of range: the most is 10,000,000$"):
        parse_int("10000001", most=10_000_000)


@pytest.mark.parametrize(
    "raw", ["0001-01-01", "9999-12-31", "1899-12-31", "2101-01-01T00:00:00+09:00", "2101/1/1"]
)
def test_a_date_outside_1900_2100_is_refused_naming_it_and_the_range(raw: str) -> None:
    message = f"{raw!r} is out of range: dates must fall in the years 1900-2100"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        parse_datetime(raw, tz=JST)
    assert parse_datetime("1900-01-01", tz=JST).year == 1899  # 00:00 in Tokyo is 15:00 UTC before
    assert parse_datetime("2100-12-31", tz=JST).year == 2100


def test_the_years_a_date_may_fall_in_are_the_callers_to_say() -> None:
    assert parse_datetime("1850-06-01", tz=JST, years=(1800, 2200)).year == 1850
    with pytest.raises(ValueError, match="years 2000-2030"):
        parse_datetime(datetime(1999, 12, 31), tz=JST, years=(2000, 2030))


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("山田\x00", "contains a NUL character (U+0000) at position 3"),
        (
            "山\ud800田",
            "contains a lone surrogate (U+D800) at position 2, which is not a character",
        ),
        ("x" * 5, "is 5 characters long; the most is 4"),
    ],
)
def test_text_that_cannot_be_stored_says_why(text: str, problem: str) -> None:
    assert text_problem(text, 4) == problem
    with pytest.raises(ValueError, match=re.escape(problem)):
        check_text(text, 4)


def test_text_anyone_types_can_be_stored() -> None:
    for text in ["株式会社サンプル", "Ｔａｒｏ", "😀 emoji", "tab\tand\nnewline", ""]:
        assert text_problem(text, 20) is None


def test_a_json_value_names_where_it_cannot_be_stored() -> None:
    assert json_problem({"a": [1, {"b": "ok"}, "x\x00"]}, "custom") == (
        "custom.a[2]",
        "contains a NUL character (U+0000) at position 2",
    )
    assert json_problem({"\udc80": 1}, "custom") == (
        "custom.\ufffd",
        "its key contains a lone surrogate (U+DC80) at position 1, which is not a character",
    )
    assert json_problem({"a": [1, "two", {"three": None}]}) is None


def test_what_was_refused_is_kept_with_a_replacement_character() -> None:
    assert scrubbed({"k\ud800": ["\x00", 1, None], "ok": "株式会社"}) == {
        "k\ufffd": ["\ufffd", 1, None],
        "ok": "株式会社",
    }
