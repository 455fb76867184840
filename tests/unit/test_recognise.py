"""Without a mapping, the importer finds which preset a file's headers fit, or asks."""

from __future__ import annotations

from pathlib import Path

import pytest

from leadops.ingest.readers import read_columns
from leadops.ingest.recognise import Unrecognised, recognise, unread

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "imports"
PRESET_OF = {
    "salesforce_report_semicolon.csv": "salesforce",
    "salesforce_data_export_lead.csv": "salesforce",
    "salesforce_report_ja_sjis.csv": "salesforce",
    "salesforce_report_us.csv": "salesforce",
    "hubspot_contacts_with_company.csv": "hubspot",
    "marketo_list_export.csv": "marketo",
    "marketo_bulk_extract.csv": "marketo",
    "sansan_cards_sjis.csv": "sansan",
    "eight_cards.csv": "eight",
    "satori_customers.csv": "satori",
    "japanese_crm_list_sjis.csv": "japanese",
    "japanese_list.xlsx": "japanese",
}


def test_every_fixture_has_its_preset() -> None:
    assert sorted(p.name for p in FIXTURES.iterdir()) == sorted(PRESET_OF)


@pytest.mark.parametrize(("name", "preset"), sorted(PRESET_OF.items()))
def test_each_export_is_recognised_as_its_systems_preset(name: str, preset: str) -> None:
    recognition = recognise(read_columns(FIXTURES / name), "leads", source=name)
    assert recognition.mapping.name == preset
    assert recognition.note().startswith(f"recognised as {preset}: it reads ")


def test_a_japanese_list_is_read_by_the_japanese_preset_not_a_vendors() -> None:
    """姓, 名, 会社名, メールアドレス, 電話番号: Marketo's and Sansan's presets read them too, but
    nothing in them is theirs alone, so the general Japanese preset reads the file."""
    columns = ["姓", "名", "会社名", "メールアドレス", "電話番号"]
    recognition = recognise(columns, "leads")
    assert recognition.mapping.name == "japanese"
    assert recognition.mapping.plan(columns).fields == {
        "email": "メールアドレス",
        "last_name": "姓",
        "first_name": "名",
        "company": "会社名",
        "phone": "電話番号",
    }


def test_plain_english_headers_are_the_defaults() -> None:
    assert recognise(["Email", "First Name", "Last Name", "Company"], "leads").mapping.name == (
        "default"
    )
    assert recognise(["email", "type", "occurred_at"], "events").mapping.name == "default"


def test_two_presets_that_fit_equally_are_a_question_listing_both() -> None:
    with pytest.raises(Unrecognised) as raised:
        recognise(["Email", "Lead Source", "Lead Status"], "leads", source="leads.csv")
    assert raised.value.candidates == ("salesforce", "marketo")
    assert str(raised.value) == (
        "leads.csv: the headers fit salesforce and marketo equally (each reads 3 of the 3 "
        "columns: Email, Lead Source, Lead Status); choose one of them as the mapping"
    )


def test_headers_no_preset_reads_are_named() -> None:
    with pytest.raises(Unrecognised) as raised:
        recognise(["Mail", "Firma", "Nachname"], "leads", source="kunden.csv")
    assert raised.value.candidates == ()
    assert str(raised.value).startswith(
        "kunden.csv: no preset recognises the headers (Mail, Firma, Nachname); name the columns"
    )


def test_the_columns_a_preset_does_not_read_are_listed() -> None:
    columns = read_columns(FIXTURES / "hubspot_contacts_with_company.csv")
    recognition = recognise(columns, "leads")
    assert unread(recognition.mapping, columns) == [
        "Country/Region",
        "Last Activity Date",
        "Associated Company IDs",
        "Associated Company",
        "Company name",
        "Create Date (2)",
        "City",
    ]
