"""The presets: how the exports of Salesforce, HubSpot, Marketo, Sansan, Eight and SATORI, and the
usual Japanese Excel lists, map onto leadops fields, with the values of their status and stage
picklists.

Each preset names, for each field, the headers its system writes (English and Japanese UI, and
API names where an export uses them); a header is matched exactly first, then ignoring case and
full-width forms. ``values`` translate a column's values (trimmed, ignoring case). A *general*
preset (``default``, ``japanese``) reads files of no particular system; recognition prefers it
when a vendor's preset reads no more of a file's headers (see ``recognise``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Preset:
    name: str
    kind: str
    #: What the preset reads, for the docs and the import page.
    description: str
    columns: dict[str, list[str]]
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    custom: dict[str, list[str]] = field(default_factory=dict)
    constants: dict[str, Any] = field(default_factory=dict)
    source_system: str | None = None
    date_order: str | None = None
    general: bool = False


# --- status and stage picklists --------------------------------------------------------------

#: Salesforce's Lead Status picklist (the classic and the current defaults). Converted leads became
#: contacts and opportunities: customers here; closed without converting: disqualified by sales.
SALESFORCE_STATUS = {
    "New": "new",
    "Open": "new",
    "Open - Not Contacted": "new",
    "Working": "lead",
    "Working - Contacted": "lead",
    "Contacted": "lead",
    "Qualified": "lead",
    "Unqualified": "disqualified_sales",
    "Nurturing": "recycled",
    "Closed - Converted": "customer",
    "Closed - Not Converted": "disqualified_sales",
}
#: HubSpot's Lead Status (hs_lead_status), by label and by internal value.
HUBSPOT_STATUS = {
    "New": "new",
    "Open": "new",
    "In Progress": "lead",
    "Open Deal": "lead",
    "Attempted to Contact": "lead",
    "Connected": "lead",
    "Unqualified": "disqualified_sales",
    "Bad Timing": "recycled",
    "IN_PROGRESS": "lead",
    "OPEN_DEAL": "lead",
    "ATTEMPTED_TO_CONTACT": "lead",
    "BAD_TIMING": "recycled",
}
#: HubSpot's Lifecycle Stage, by label and by internal value, onto leadops's lifecycle stages.
HUBSPOT_LIFECYCLE = {
    "Subscriber": "inquiry",
    "Lead": "inquiry",
    "Marketing Qualified Lead": "mql",
    "Sales Qualified Lead": "sql",
    "Opportunity": "opportunity",
    "Customer": "customer",
    "Evangelist": "customer",
    "marketingqualifiedlead": "mql",
    "salesqualifiedlead": "sql",
}
#: Marketo's Lead Status is usually Salesforce's picklist (synced); nurture and disqualified too.
MARKETO_STATUS = {
    **SALESFORCE_STATUS,
    "Nurture": "recycled",
    "Disqualified": "disqualified_marketing",
    "MQL": "lead",
    "SQL": "lead",
}

# --- lead presets ------------------------------------------------------------------------------

SALESFORCE = Preset(
    name="salesforce",
    kind="leads",
    description="Salesforce lead reports and list exports (English and Japanese), and the weekly "
    "Data Export's Lead.csv (API names)",
    columns={
        "external_id": ["Lead ID", "リード ID", "リードID", "Id"],
        "first_name": ["First Name", "名", "FirstName"],
        "last_name": ["Last Name", "姓", "LastName"],
        "email": ["Email", "メール"],
        "company": ["Company", "Company / Account", "会社名", "会社名・取引先名"],
        "title": ["Title", "役職"],
        "phone": ["Phone", "電話"],
        "prefecture": ["State/Province", "State", "都道府県"],
        "source": ["Lead Source", "リードソース", "LeadSource"],
        "created_at": ["Created Date", "Create Date", "作成日", "CreatedDate"],
        "employees": ["No. of Employees", "Employees", "従業員数", "NumberOfEmployees"],
        "industry": ["Industry", "業種"],
        "status": ["Lead Status", "リード状況", "Status"],
        "owner": ["Lead Owner", "Owner Email", "リード所有者", "OwnerId"],
        "domain": ["Website", "Web サイト", "Webサイト"],
    },
    values={"status": SALESFORCE_STATUS},
    source_system="salesforce",
)
HUBSPOT = Preset(
    name="hubspot",
    kind="leads",
    description="HubSpot contact exports, with or without the associated company's columns (the "
    "contact's Create Date is the first of the repeated ones)",
    columns={
        "external_id": ["Record ID", "Contact ID", "レコードID"],
        "first_name": ["First Name", "名"],
        "last_name": ["Last Name", "姓"],
        "email": ["Email", "Eメール", "メール"],
        "company": ["Company Name", "Associated Company", "会社名"],
        "title": ["Job Title", "役職"],
        "phone": ["Phone Number", "電話番号"],
        "prefecture": ["State/Region", "都道府県/地域", "都道府県"],
        "source": ["Original Source", "Original Traffic Source", "元のソース"],
        "created_at": ["Create Date", "作成日"],
        "employees": ["Number of Employees", "従業員数"],
        "industry": ["Industry", "業種"],
        "status": ["Lead Status", "リードステータス"],
        "lifecycle_stage": ["Lifecycle Stage", "ライフサイクルステージ"],
        "owner": ["Contact owner", "Contact Owner", "コンタクト担当者"],
        "domain": ["Website URL", "Company Domain Name", "ウェブサイトURL"],
    },
    values={"status": HUBSPOT_STATUS, "lifecycle_stage": HUBSPOT_LIFECYCLE},
    source_system="hubspot",
    date_order="mdy",
)
MARKETO = Preset(
    name="marketo",
    kind="leads",
    description="Marketo list exports from the UI and Bulk Extract files (API names, null for an "
    "empty value)",
    columns={
        "external_id": ["Id", "Lead ID", "ID"],
        "first_name": ["First Name", "名", "firstName"],
        "last_name": ["Last Name", "姓", "lastName"],
        "email": ["Email Address", "Email", "メールアドレス"],
        "company": ["Company Name", "Company", "会社名"],
        "title": ["Job Title", "Title", "役職"],
        "department": ["Department", "部署"],
        "phone": ["Phone Number", "Phone", "電話番号"],
        "prefecture": ["State", "都道府県"],
        "source": ["Lead Source", "Original Source Type", "リードソース", "leadSource"],
        "created_at": ["Created At", "Created", "作成日", "createdAt"],
        "employees": ["Number of Employees", "NumberOfEmployees", "従業員数"],
        "industry": ["Industry", "業種"],
        "status": ["Lead Status", "リード状況", "leadStatus"],
        "domain": ["Website", "Webサイト"],
    },
    values={"status": MARKETO_STATUS},
    custom={"Marketo lead score": ["Lead Score", "leadScore", "リードスコア"]},
    source_system="marketo",
)
SANSAN = Preset(
    name="sansan",
    kind="leads",
    description="Sansan business-card exports (名刺データ): 氏名 or 姓/名, 名刺交換日 as the "
    "creation date",
    columns={
        "company": ["会社名"],
        "department": ["部署名"],
        "title": ["役職"],
        "full_name": ["氏名"],
        "last_name": ["姓", "氏名(姓)"],
        "first_name": ["名", "氏名(名)"],
        "email": ["メールアドレス", "E-mail"],
        "phone": ["電話番号", "TEL"],
        "address": ["住所"],
        "prefecture": ["都道府県"],
        "domain": ["URL"],
        "created_at": ["名刺交換日"],
    },
    custom={
        "名刺所有者": ["名刺所有者", "所有者"],
        "携帯電話": ["携帯電話", "携帯"],
        "郵便番号": ["郵便番号"],
    },
    constants={"source": "名刺交換"},
    date_order="ymd",
)
EIGHT = Preset(
    name="eight",
    kind="leads",
    description="Eight business-card downloads: e-mail, TEL会社, 名刺交換日 as the creation date",
    columns={
        "company": ["会社名"],
        "department": ["部署名"],
        "title": ["役職"],
        "last_name": ["姓"],
        "first_name": ["名"],
        "email": ["e-mail"],
        "phone": ["TEL会社", "TEL直通", "TEL部門"],
        "address": ["住所"],
        "domain": ["URL"],
        "created_at": ["名刺交換日"],
    },
    custom={
        "携帯電話": ["携帯電話"],
        "郵便番号": ["郵便番号"],
        "TEL部門": ["TEL部門"],
        "TEL直通": ["TEL直通"],
        "Fax": ["Fax"],
    },
    constants={"source": "名刺交換"},
    date_order="ymd",
)
SATORI = Preset(
    name="satori",
    kind="leads",
    description="SATORI customer exports (カスタマー): 苗字/名前, 作成日時",
    columns={
        "email": ["メールアドレス"],
        "last_name": ["苗字"],
        "first_name": ["名前"],
        "company": ["会社名"],
        "department": ["部署", "部署名"],
        "title": ["役職"],
        "phone": ["電話番号"],
        "prefecture": ["都道府県"],
        "domain": ["会社URL"],
        "employees": ["従業員数"],
        "industry": ["業種"],
        "source": ["流入元"],
        "created_at": ["作成日時", "登録日時"],
    },
    custom={
        "苗字(ふりがな)": ["苗字(ふりがな)"],
        "名前(ふりがな)": ["名前(ふりがな)"],
        "携帯電話番号": ["携帯電話番号"],
        "市区町村": ["市区町村"],
        "SATORI score": ["スコア"],
    },
    source_system="satori",
    date_order="ymd",
)
JAPANESE = Preset(
    name="japanese",
    kind="leads",
    description="Excel and CSV lists with the usual Japanese headers (姓, 名, 会社名, 部署, 役職, "
    "メールアドレス, 電話番号, 都道府県 or 住所; 取引先名, 従業員数, 担当営業 from a CRM)",
    columns={
        "email": ["メールアドレス", "メール", "Eメール", "E-mail", "Email"],
        "last_name": ["姓", "苗字"],
        "first_name": ["名"],
        "full_name": ["氏名", "名前", "お名前"],
        "company": ["会社名", "取引先名", "企業名", "法人名"],
        "department": ["部署", "部署名", "部門"],
        "title": ["役職", "役職名"],
        "phone": ["電話番号", "電話", "TEL"],
        "prefecture": ["都道府県"],
        "address": ["住所", "所在地"],
        "employees": ["従業員数", "社員数"],
        "industry": ["業種"],
        "owner": ["担当営業", "営業担当"],
        "source": ["リードソース", "流入経路", "獲得経路"],
        "created_at": ["登録日", "作成日", "登録日時", "作成日時"],
        "domain": ["URL", "ホームページ", "Webサイト"],
        "status": ["ステータス", "リード状況"],
    },
    date_order="ymd",
    general=True,
)
#: The default reads columns named like leadops's fields, and their plain English names.
DEFAULT_LEADS = Preset(
    name="default",
    kind="leads",
    description="columns named like leadops's fields (email, company …) or their plain English "
    "names (Email, First Name, Company …)",
    columns={
        "email": ["E-mail", "Email Address"],
        "first_name": ["First Name"],
        "last_name": ["Last Name"],
        "full_name": ["Full Name", "Name"],
        "company": ["Company"],
        "title": ["Title", "Job Title"],
        "department": ["Department"],
        "phone": ["Phone"],
        "domain": ["Website"],
        "industry": ["Industry"],
    },
    general=True,
)

# --- deal presets ------------------------------------------------------------------------------

SALESFORCE_DEALS = Preset(
    name="salesforce",
    kind="deals",
    description="Salesforce opportunity reports",
    columns={
        "external_id": ["Opportunity ID", "商談 ID"],
        "name": ["Opportunity Name", "商談名"],
        "account": ["Account Name", "取引先名"],
        "stage": ["Stage", "フェーズ"],
        "amount": ["Amount", "金額"],
        "created_at": ["Created Date", "作成日"],
        "closed_at": ["Close Date", "完了予定日"],
        "owner": ["Opportunity Owner", "商談 所有者"],
        "lead_email": ["Contact Email", "Email"],
    },
    source_system="salesforce",
)
HUBSPOT_DEALS = Preset(
    name="hubspot",
    kind="deals",
    description="HubSpot deal exports",
    columns={
        "external_id": ["Record ID", "Deal ID"],
        "name": ["Deal Name", "取引名"],
        "account": ["Associated Company", "Company Name"],
        "stage": ["Deal Stage", "取引ステージ"],
        "amount": ["Amount", "金額"],
        "created_at": ["Create Date", "作成日"],
        "closed_at": ["Close Date", "クローズ日"],
        "owner": ["Deal owner", "Deal Owner", "取引担当者"],
        "lead_email": ["Associated Contact Email", "Email"],
    },
    source_system="hubspot",
    date_order="mdy",
)

#: Every preset, by kind and name, in the order the import page lists them (``default`` apart).
PRESETS: dict[str, dict[str, Preset]] = {
    "leads": {p.name: p for p in (SALESFORCE, HUBSPOT, MARKETO, SANSAN, EIGHT, SATORI, JAPANESE)},
    "deals": {p.name: p for p in (SALESFORCE_DEALS, HUBSPOT_DEALS)},
}
#: What ``default`` reads besides the fields' own names, by kind.
DEFAULTS: dict[str, Preset] = {"leads": DEFAULT_LEADS}
