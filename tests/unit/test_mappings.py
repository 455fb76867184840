from __future__ import annotations

from pathlib import Path

import pytest

from leadops.ingest.mappings import (
    MappingError,
    load_mapping_file,
    mapping_from_text,
    resolve_mapping,
)

ROOT = Path(__file__).resolve().parents[2]


def test_salesforce_japanese_headers_map_to_lead_fields() -> None:
    mapping = resolve_mapping("salesforce", "leads")
    fields, extra = mapping.apply(
        {
            "メール": "a@example.co.jp",
            "会社名": "サンプル",
            "都道府県": "大阪",
            "利用中のMAシステム": "Marketo",
        }
    )
    assert fields["email"] == "a@example.co.jp"
    assert fields["company"] == "サンプル"
    assert fields["prefecture"] == "大阪"
    assert extra == {"利用中のMAシステム": "Marketo"}


@pytest.mark.parametrize(
    ("preset", "headers"),
    [
        (
            "salesforce",
            {"Email": "a@x.co.jp", "Company": "X", "Lead Source": "Web", "No. of Employees": "50"},
        ),
        (
            "hubspot",
            {
                "Email": "a@x.co.jp",
                "Company Name": "X",
                "Original Source": "Web",
                "Number of Employees": "50",
            },
        ),
        (
            "marketo",
            {
                "Email Address": "a@x.co.jp",
                "Company Name": "X",
                "Lead Source": "Web",
                "Number of Employees": "50",
            },
        ),
    ],
)
def test_each_preset_reads_its_vendors_export(preset: str, headers: dict[str, str]) -> None:
    fields, extra = resolve_mapping(preset, "leads").apply(headers)
    assert (fields["email"], fields["company"], fields["source"], fields["employees"]) == (
        "a@x.co.jp",
        "X",
        "Web",
        "50",
    )
    assert extra == {}


def test_unmapped_columns_are_kept_not_dropped() -> None:
    fields, extra = resolve_mapping(None, "leads").apply(
        {"email": "a@x.co.jp", "好きな色": "青", "blank": " "}
    )
    assert fields["email"] == "a@x.co.jp"
    assert extra == {"好きな色": "青"}


def test_headers_match_across_full_width_and_case() -> None:
    fields, _ = resolve_mapping(None, "leads").apply({"ＥＭＡＩＬ": "a@x.co.jp"})
    assert fields["email"] == "a@x.co.jp"


def test_mapping_file_errors_name_the_key(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("kind: leads\ncolumns:\n  emali: Email\n", encoding="utf-8")
    with pytest.raises(MappingError, match=r"columns\.emali: not a field of leads"):
        load_mapping_file(path, "leads")
    path.write_text("kind: deals\n", encoding="utf-8")
    with pytest.raises(MappingError, match="kind is 'deals' but this is an import of leads"):
        load_mapping_file(path, "leads")
    path.write_text("columns: [unclosed\n", encoding="utf-8")
    with pytest.raises(MappingError, match="not valid YAML"):
        load_mapping_file(path, "leads")
    with pytest.raises(MappingError, match="not a preset"):
        resolve_mapping("nowhere.yaml", "leads")
    with pytest.raises(MappingError, match="no 'marketo' preset for deals"):
        resolve_mapping("marketo", "deals")


def test_values_translate_a_vendors_stage_names() -> None:
    mapping = load_mapping_file(ROOT / "docs/examples/maven-pipeline.yaml", "deals")
    fields, _ = mapping.apply({"opportunity_id": "X1", "deal_stage": "Engaging"})
    assert fields["stage"] == "contacted"


def test_shipped_example_mappings_load() -> None:
    for name, kind in [
        ("olist-mqls.yaml", "leads"),
        ("olist-deals.yaml", "deals"),
        ("maven-pipeline.yaml", "deals"),
    ]:
        assert load_mapping_file(ROOT / "docs/examples" / name, kind).kind == kind


def test_a_mapping_given_as_text_names_each_mistakes_key_and_line() -> None:
    text = "kind: leads\nsource_system: expo\ncolumns:\n  email: Mail\n  emali: Mail2\n"
    with pytest.raises(MappingError) as raised:
        mapping_from_text(text, "leads", source="expo.yaml")
    assert (raised.value.key, raised.value.line) == ("columns.emali", 5)
    assert str(raised.value).startswith("expo.yaml: columns.emali: not a field of leads")
    assert str(raised.value).endswith(", line 5")
    mapping = mapping_from_text(text.replace("emali", "company"), "leads", source="expo.yaml")
    assert (mapping.name, mapping.source_system) == ("expo.yaml", "expo")
    assert mapping.columns == {"email": ["Mail"], "company": ["Mail2"]}


@pytest.mark.parametrize(
    ("text", "line", "said"),
    [
        ("columns:\n  email: [Mail\nsecret: hunter2\n", 3, "not valid YAML"),
        ("a: &a [x, x]\nb: &b [*a, *a]\ncolumns: *b\n", 1, "anchors and aliases"),
        ("columns:\n  email: Mail\ncreate_users: yes please\n", 3, "expected true or false"),
        ("kind: leads\nconstants: [owner]\n", 2, "expected a YAML object"),
        ("custom: {a: 1}\nvalues:\n  stage: won\n", 3, "expected a field of leads with a table"),
        ("kind: leads\ndate_order: ydm\n", 2, "expected ymd, mdy or dmy"),
        ("kind: leads\nx\x00: 1\n", 2, "not valid YAML"),
    ],
)
def test_a_mapping_given_as_text_quotes_nothing_of_it(text: str, line: int, said: str) -> None:
    with pytest.raises(MappingError, match=said) as raised:
        mapping_from_text(text, "leads")
    assert raised.value.line == line
    assert "hunter2" not in str(raised.value)
    assert "[Mail" not in str(raised.value)


def test_only_the_command_line_opens_a_mapping_file(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("columns:\n  email: Mail\n", encoding="utf-8")
    assert resolve_mapping(str(path), "leads").columns == {"email": ["Mail"]}
    with pytest.raises(MappingError, match="a mapping file is a YAML object"):
        mapping_from_text(str(path), "leads")  # the text of a path is only text: nothing is opened
    openers = {"resolve_mapping", "load_mapping_file", "Path.read_text", "open("}
    source = (ROOT / "src/leadops/web/pages/imports.py").read_text(encoding="utf-8")
    assert [name for name in openers if name in source] == []


def test_a_header_that_differs_only_in_case_is_chosen_exactly_when_named() -> None:
    """A Salesforce report with Lead Owner (the owner) and Lead owner (a field of its own)."""
    row = {"Email": "a@x.co.jp", "Lead Owner": "Yamada Taro", "Lead owner": "EMEA Queue"}
    fields, extra = resolve_mapping("salesforce", "leads").apply(row)
    assert fields["owner"] == "Yamada Taro"
    assert extra == {"Lead owner": "EMEA Queue"}
    named = mapping_from_text("columns:\n  owner: Lead owner\n", "leads")
    assert named.apply(row)[0]["owner"] == "EMEA Queue"
    only_lower = {"email": "a@x.co.jp", "lead owner": "Sato"}
    assert resolve_mapping("salesforce", "leads").apply(only_lower)[0]["owner"] == "Sato"


def test_a_repeated_header_is_selectable_by_its_count() -> None:
    """HubSpot repeats Create Date for the associated company; the preset takes the contact's."""
    row = {"Email": "a@x.co.jp", "Create Date": "2/5/24 1:51", "Create Date (2)": "1/9/23 8:00"}
    fields, extra = resolve_mapping("hubspot", "leads").apply(row)
    assert fields["created_at"] == "2/5/24 1:51"
    assert extra == {"Create Date (2)": "1/9/23 8:00"}
    mapping = mapping_from_text("columns:\n  created_at: Create Date (2)\n", "leads")
    assert mapping.apply(row)[0]["created_at"] == "1/9/23 8:00"


def test_null_blank_and_dash_literals_are_empty_unless_the_mapping_says_otherwise() -> None:
    row = {"email": "a@x.co.jp", "title": "null", "phone": "NULL", "company": "(blank)"}
    row |= {"department": " - ", "memo": "null"}
    fields, extra = resolve_mapping(None, "leads").apply(row)
    assert (fields["title"], fields["phone"], fields["company"], fields["department"]) == (
        None,
        None,
        None,
        None,
    )
    assert extra == {}
    keep = mapping_from_text("empty: []\n", "leads")
    assert keep.apply(row)[0]["title"] == "null"
    own = mapping_from_text("empty: ['n/a', '該当なし']\n", "leads")
    fields, _ = own.apply({**row, "industry": "該当なし", "source": "N/A"})
    assert (fields["title"], fields["industry"], fields["source"]) == ("null", None, None)
    with pytest.raises(MappingError, match=r"write null in quotes"):
        mapping_from_text("empty: [null]\n", "leads")


def test_values_are_translated_trimmed_and_ignoring_case_with_the_source_word_as_reason() -> None:
    fields, _ = resolve_mapping("salesforce", "leads").apply(
        {"Email": "a@x.co.jp", "Lead Status": "  closed - NOT converted "}
    )
    assert (fields["status"], fields["status_reason"]) == (
        "disqualified_sales",
        "closed - NOT converted",
    )
    mapping = mapping_from_text("values:\n  status: {Warm: lead, Cold: recycled}\n", "leads")
    assert mapping.apply({"email": "a@x.co.jp", "status": "COLD"})[0]["status"] == "recycled"
    kept = mapping.apply({"email": "a@x.co.jp", "status": "Lukewarm"})[0]
    assert (kept["status"], kept.get("status_reason")) == ("Lukewarm", None)


def test_custom_fields_name_a_column_or_a_list_of_them() -> None:
    mapping = mapping_from_text("custom:\n  score: [Lead Score, leadScore]\n", "leads")
    assert mapping.apply({"email": "a@x.co.jp", "leadScore": "85"})[1] == {"score": "85"}
