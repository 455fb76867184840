"""What a report page shows in place of the report's identifiers: a label for each column key and
for each code a cell holds (statuses by the rules' labels, other codes through the catalogs), and
each number in the form its column says (a ratio as a percentage, money in yen, days with one
decimal). The API and the report module keep the identifiers; only people get the words."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from leadops.reports.export import DAYS, MONEY, RATIO, RATIO_COLUMNS
from leadops.web import vocabulary
from leadops.web.i18n import Translator
from leadops.web.render import N_

#: Every column key the reports use (a status column is labelled by the rules instead).
REPORT_COLUMNS = (
    N_("actual"),
    N_("amount"),
    N_("appointment_rate"),
    N_("appointments"),
    N_("as_of"),
    N_("attainment"),
    N_("average_deal_size"),
    N_("booked"),
    N_("bottleneck"),
    N_("by"),
    N_("campaign"),
    N_("campaigns_of_type"),
    N_("cancelled"),
    N_("channel"),
    N_("cohort_leads"),
    N_("company"),
    N_("connect_rate"),
    N_("connects"),
    N_("conversion_rate"),
    N_("cost"),
    N_("cost_per_appointment"),
    N_("cost_per_mql"),
    N_("cost_per_response"),
    N_("cost_per_won"),
    N_("count"),
    N_("created_at"),
    N_("cumulative"),
    N_("cumulative_appointments"),
    N_("cumulative_leads"),
    N_("cumulative_mql"),
    N_("cumulative_opportunities"),
    N_("cumulative_sql"),
    N_("cumulative_won"),
    N_("customer"),
    N_("date"),
    N_("days"),
    N_("days_since_assignment"),
    N_("days_to_appointment_after_reengaged_median"),
    N_("days_to_appointment_median"),
    N_("days_to_won_mean"),
    N_("days_to_won_median"),
    N_("difference"),
    N_("dimension"),
    N_("done"),
    N_("done_late"),
    N_("done_on_time"),
    N_("due_at"),
    N_("expected"),
    N_("first_time_appointment_rate"),
    N_("first_time_appointments"),
    N_("first_time_leads"),
    N_("first_touch_hours_median"),
    N_("first_touches"),
    N_("from_first"),
    N_("from_new_leads"),
    N_("from_open_leads"),
    N_("from_previous"),
    N_("from_status"),
    N_("from_touch_stage"),
    N_("high_80"),
    N_("hours_overdue"),
    N_("lead"),
    N_("lead_id"),
    N_("low_80"),
    N_("max_days"),
    N_("mean_days"),
    N_("mean_days_in_stage"),
    N_("mean_days_to_close"),
    N_("measure"),
    N_("median_days"),
    N_("median_days_in_stage"),
    N_("members"),
    N_("month_from"),
    N_("mql_rate"),
    N_("name"),
    N_("new"),
    N_("new_leads"),
    N_("open"),
    N_("open_leads"),
    N_("outcome"),
    N_("outcome_period"),
    N_("overdue"),
    N_("owner"),
    N_("probability"),
    N_("rate"),
    N_("reason"),
    N_("reengaged"),
    N_("reengaged_appointment_rate"),
    N_("reengaged_appointments"),
    N_("response_rate"),
    N_("responses"),
    N_("result"),
    N_("rise"),
    N_("score_band"),
    N_("score_now"),
    N_("share"),
    N_("since"),
    N_("sla_compliance"),
    N_("source"),
    N_("subject"),
    N_("target"),
    N_("template"),
    N_("total"),
    N_("touches"),
    N_("training_months"),
    N_("type"),
    N_("type_average"),
    N_("type_average_cumulative"),
    N_("undated"),
    N_("unique_companies"),
    N_("valid_leads"),
    N_("valid_rate"),
    N_("value"),
    N_("window"),
    N_("won_amount"),
    N_("won_per_appointment"),
    N_("won_rate"),
    N_("against_type_average"),
    N_("calendar_months"),
    N_("by_segment"),
    N_("(none)"),
    N_("(unassigned)"),
    N_("(unknown)"),
    N_("all"),
)
#: Codes of the data a report cell holds: campaign types and sources, recycle and loss reasons,
#: segment dimensions, and the notes a report adds.
DATA_CODES = (
    N_("tradeshow"),
    N_("content"),
    N_("webinar"),
    N_("inquiry_form"),
    N_("external_db"),
    N_("bdr"),
    N_("ads"),
    N_("campaign"),
    N_("no_connect"),
    N_("no_need"),
    N_("timing"),
    N_("budget"),
    N_("competitor"),
    N_("price"),
    N_("no_decision"),
    N_("industry"),
    N_("department"),
    N_("title_class"),
    N_("employee_band"),
    N_("prefecture"),
    N_("region"),
    N_("starts_on"),
    N_("unknown"),
)
NOTES = (
    N_("no earlier month to learn from: open leads count at the overall rate only"),
    N_(
        "(none): touches logged without a template (before playbooks, or at a stage without "
        "one); (unknown): touches logged before the stage was kept."
    ),
)
#: Notes that carry numbers: the pattern of the report's text, the catalog's text.
NUMBER_NOTES = (
    (
        re.compile(r"win rate \(won ÷ closed\): (?P<rate>[\d.]+|None)$"),
        N_("Win rate (won ÷ closed): %(rate)s"),
    ),
    (
        re.compile(r"open opportunities: (?P<count>\d+), amount (?P<amount>[\d.]+)$"),
        N_("Open opportunities: %(count)s, amount %(amount)s"),
    ),
    (
        re.compile(r"actual within the 80 % interval in (?P<hit>\d+) of (?P<count>\d+) backtest "),
        N_("Actual within the 80%% interval in %(hit)s of %(count)s backtest forecasts"),
    ),
)
SCORE_JUMPS_DEFINITION = N_(
    "For each day of the range (default: the last 7 days up to today), leads whose score rose by "
    "at least %(threshold)s points during that day (since the end of the previous day), from the "
    "score ledger of the active rules version, days in the configured time zone; newest day "
    "first, biggest rise first. Status is the lead's status now."
)
SCORE_JUMPS = re.compile(r"(?<=by at least )\d+(?= points)")
LOST = "lost: "
#: Codes a cell may hold that are words, not data (a company or a campaign name is data).
CODES = frozenset(
    word
    for name in dir(vocabulary)
    if name.isupper() and isinstance(getattr(vocabulary, name), tuple)
    for word in getattr(vocabulary, name)
) | frozenset(REPORT_COLUMNS + DATA_CODES)


class ReportWords:
    """Labels and number forms of one report page, in one locale."""

    def __init__(self, t: Translator, statuses: Mapping[str, str]) -> None:
        self.t = t
        self.statuses = statuses

    def column(self, key: str) -> str:
        if key in self.statuses:
            return self.statuses[key]
        return self.t.gettext(key)

    def value(self, column: str, value: Any) -> str:
        """A cell as text: codes as words, numbers in their column's form."""
        t = self.t
        if isinstance(value, bool) or value is None:
            return "✔" if value is True else ""
        if isinstance(value, int | float):
            return self.number(column, value)
        if isinstance(value, str):
            return self.word(value)
        if hasattr(value, "hour"):
            return t.when(value)
        if hasattr(value, "isoformat"):
            return t.day(value, "short")
        return str(value)

    def number(self, column: str, value: float) -> str:
        if RATIO.search(column) or column in RATIO_COLUMNS:
            return self.t.percent(value)
        if MONEY.search(column):
            return self.t.money(value)
        if DAYS.search(column) and isinstance(value, float):
            return self.t.number(value, 1)
        if isinstance(value, float):
            return self.t.number(value, 2)
        return self.t.number(value)

    def word(self, value: str) -> str:
        """A code as its word (a status by the rules' label); any other text as it is."""
        if value in self.statuses:
            return self.statuses[value]
        if value.startswith(LOST):
            return f"{self.t.gettext('lost')}: {self.word(value.removeprefix(LOST))}"
        return self.t.gettext(value) if value in CODES else value

    def chart(self, option: dict[str, Any] | None) -> dict[str, Any] | None:
        """A chart's category axes with words for their codes (stages, statuses)."""
        if option is None:
            return None
        for axis in ("xAxis", "yAxis"):
            spec = option.get(axis)
            if isinstance(spec, dict) and isinstance(spec.get("data"), list):
                spec["data"] = [self.word(v) if isinstance(v, str) else v for v in spec["data"]]
        return option

    def note(self, note: str) -> str:
        """A report's note in the reader's language, its numbers in their form."""
        for pattern, message in NUMBER_NOTES:
            if found := pattern.match(note):
                values = found.groupdict()
                if "rate" in values:
                    values["rate"] = (
                        self.t.percent(float(values["rate"])) if values["rate"] != "None" else "—"
                    )
                if "amount" in values:
                    values["amount"] = self.t.money(float(values["amount"]))
                return self.t.gettext(message, **values)
        return self.t.gettext(note)

    def definition(self, text: str) -> str:
        """A report's definition; the score-jumps threshold is kept out of the catalog's text."""
        if found := SCORE_JUMPS.search(text):
            template = SCORE_JUMPS.sub("%(threshold)s", text)
            return self.t.gettext(template, threshold=found.group())
        return self.t.gettext(text)
