"""What every report shares: its parameters (range, period, attribution), its result (named columns,
rows, notes, anomalies), periods in the configured time zone, and the table of reports by name.

Reports read the history (lead events, opportunities, touches) with plain SELECTs that work on
SQLite and PostgreSQL alike; dates are bucketed into periods in Python, in the configured time zone,
so a month is a Tokyo month on both databases.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from leadops.errors import FieldError, ValidationFailed
from leadops.normalize import parse_datetime
from leadops.rules.segments import dimension_problem

Period = Literal["day", "week", "month", "quarter", "year"]
PERIODS: tuple[str, ...] = ("day", "week", "month", "quarter", "year")


@dataclass(frozen=True)
class ReportParams:
    """``start`` inclusive, ``end`` exclusive, both aware; ``by``: attribute outcomes to the period
    they happened in, or to the cohort (acquisition period) of their lead (seed 004)."""

    start: datetime | None = None
    end: datetime | None = None
    period: str = "month"
    by: str = "period"
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Tokyo"))
    now: datetime | None = None
    #: score-jumps: the least rise that counts (seed 002: 10 points since the previous day).
    threshold: int = 10
    #: forecast: also replay past months (forecasts made on day 1, 10 and 20 against what happened).
    backtest: bool = False
    #: The first month of the fiscal year (quarters and years follow it); None: the rules'
    #: ``calendar`` says (``run_report`` fills it in), January when read without rules.
    fiscal_start: int | None = None
    #: The language of fiscal period labels (ja: 2026年度 第1四半期, en: FY2026 Q1); None: the
    #: rules' ``calendar.locale``, en when read without rules.
    locale: str | None = None
    #: sources and kpis: break the rows down by this segment (industry, title_class, custom.NAME …;
    #: see rules/segments.py).
    segment: str | None = None

    def __post_init__(self) -> None:
        errors = []
        if self.period not in PERIODS:
            errors.append(
                FieldError("period", f"expected one of {', '.join(PERIODS)}, got {self.period!r}")
            )
        if self.by not in ("period", "cohort"):
            errors.append(FieldError("by", f"expected period or cohort, got {self.by!r}"))
        if self.threshold < 1:
            errors.append(
                FieldError(
                    "threshold", f"expected a whole number of points ≥ 1, got {self.threshold}"
                )
            )
        if self.fiscal_start is not None and not 1 <= self.fiscal_start <= 12:
            errors.append(
                FieldError(
                    "fiscal_year_start_month", f"expected a month 1-12, got {self.fiscal_start}"
                )
            )
        if self.locale is not None and self.locale not in LABEL_LOCALES:
            errors.append(FieldError("locale", f"expected ja or en, got {self.locale!r}"))
        if self.segment is not None and (problem := dimension_problem(self.segment)):
            errors.append(FieldError("segment", problem))
        if self.start and self.end and self.start >= self.end:
            errors.append(FieldError("to", "the end of the range must come after its start"))
        if errors:
            raise ValidationFailed(errors)

    def within(self, at: datetime | None) -> bool:
        if at is None:
            return False
        return (self.start is None or at >= self.start) and (self.end is None or at < self.end)

    def in_range(self, column: Any) -> list[Any]:
        """SQL conditions keeping ``column`` (a time) within [start, end)."""
        return [
            c
            for c in (
                column >= self.start if self.start is not None else None,
                column < self.end if self.end is not None else None,
            )
            if c is not None
        ]

    @property
    def moment(self) -> datetime:
        """The report's "now": given (``--as-of``, a fixed clock), else the current time."""
        return self.now if self.now is not None else datetime.now(self.tz)

    def today(self) -> date:
        """The day "now" falls in (as of a date, its end: that day)."""
        return (self.moment - timedelta(microseconds=1)).astimezone(self.tz).date()

    @property
    def fiscal_month(self) -> int:
        """The first month of the fiscal year (January unless set)."""
        return self.fiscal_start or 1

    def bucket(self, at: datetime) -> str:
        return self.label(at.astimezone(self.tz))

    def label(self, local: datetime | date) -> str:
        """The label of the period (of this report's kind) a local day falls in."""
        return period_label(local, self.period, self.fiscal_month, self.locale or "en")


LABEL_LOCALES = ("ja", "en")


def fiscal_year(day: date, first_month: int) -> int:
    """The fiscal year ``day`` falls in, named after the calendar year it starts in (年度: April
    2026 to March 2027 is 2026年度)."""
    return day.year if day.month >= first_month else day.year - 1


def fiscal_quarter(day: date, first_month: int) -> int:
    """1-4: the quarter of the fiscal year ``day`` falls in."""
    return (day.month - first_month) % 12 // 3 + 1


def period_label(
    local: datetime | date, period: str, first_month: int = 1, locale: str = "en"
) -> str:
    """Days as themselves, ISO weeks (2026-W48), months (2026-11); quarters and years of the fiscal
    year that starts in ``first_month``: FY2026 Q1 and FY2026, in Japanese 2026年度 第1四半期 and
    2026年度."""
    day = local.date() if isinstance(local, datetime) else local
    if period == "day":
        return day.isoformat()
    if period == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    if period == "month":
        return f"{day.year}-{day.month:02d}"
    year = fiscal_year(day, first_month)
    if period == "quarter":
        quarter = fiscal_quarter(day, first_month)
        return f"{year}年度 第{quarter}四半期" if locale == "ja" else f"FY{year} Q{quarter}"
    return f"{year}年度" if locale == "ja" else f"FY{year}"


def day_start(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=tz)


def N_(message: str) -> str:  # noqa: N802 - the name the catalog extraction looks for
    """Marks a report's definition for the web app's catalogs; the pages translate it."""
    return message


@dataclass
class ReportResult:
    name: str
    columns: list[str]
    rows: list[list[Any]]
    definition: str
    notes: list[str] = field(default_factory=list)
    #: Rows that look wrong in the data (e.g. a deal won before its lead's first contact): shown,
    #: not hidden.
    anomalies: list[dict[str, Any]] = field(default_factory=list)
    #: Extra tables (a cohort's rates, a funnel's conversions), each with its columns and rows.
    sections: dict[str, dict[str, Any]] = field(default_factory=dict)

    def localize(self, tz: ZoneInfo) -> None:
        """Times in the report's time zone (what its reader's calendar says), in every table. A
        column holds one kind of value: it is a time column when its first value that is not None is
        an aware time."""
        for rows in [self.rows, *(s["rows"] for s in self.sections.values())]:
            if not rows:
                continue
            for index in range(len(rows[0])):
                first = next((row[index] for row in rows if row[index] is not None), None)
                if not isinstance(first, datetime) or first.tzinfo is None:
                    continue
                for row in rows:
                    value = row[index]
                    if isinstance(value, datetime) and value.tzinfo is not None:
                        row[index] = value.astimezone(tz)

    def as_dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]

    def to_json(self) -> dict[str, Any]:
        return {
            "report": self.name,
            "definition": self.definition,
            "columns": self.columns,
            "rows": self.as_dicts(),
            "notes": self.notes,
            "anomalies": self.anomalies,
            "sections": {
                name: {
                    "columns": t["columns"],
                    "rows": [dict(zip(t["columns"], row, strict=True)) for row in t["rows"]],
                }
                for name, t in self.sections.items()
            },
        }


ReportFn = Callable[[Session, ReportParams], ReportResult]


@dataclass(frozen=True)
class ReportSpec:
    name: str
    summary: str
    run: ReportFn


REPORTS: dict[str, ReportSpec] = {}


def report(name: str, summary: str) -> Callable[[ReportFn], ReportFn]:
    def register(fn: ReportFn) -> ReportFn:
        REPORTS[name] = ReportSpec(name, summary, fn)
        return fn

    return register


def rate(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


def days_between(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 86400


def median(values: Sequence[float]) -> float | None:
    return round(statistics.median(values), 2) if values else None


def mean(values: Sequence[float]) -> float | None:
    return round(statistics.fmean(values), 2) if values else None


def sorted_labels(labels: Iterable[str]) -> list[str]:
    return sorted(set(labels))


def shift(at: datetime, days: int) -> datetime:
    return at + timedelta(days=days)


def report_params(
    start: str | None,
    end: str | None,
    period: str,
    by: str,
    tz: ZoneInfo,
    now: datetime,
    *,
    as_of: str | None = None,
    threshold: int = 10,
    backtest: bool = False,
    locale: str | None = None,
    segment: str | None = None,
) -> ReportParams:
    """Report parameters from user input: dates (inclusive) or times in the configured time zone;
    ``as_of`` replaces "now" (a date means the start of the next day: the report as that day
    closed)."""

    def moment(value: str | None, name: str, *, end_of_day: bool) -> datetime | None:
        if not value:
            return None
        try:
            at = parse_datetime(value, tz=tz)
        except ValueError as exc:
            raise ValidationFailed([FieldError(name, str(exc))]) from None
        if end_of_day and len(value.strip()) <= 10:  # a date: the whole day is in the range
            at = datetime.combine(at.astimezone(tz).date() + timedelta(days=1), time(), tzinfo=tz)
        return at

    return ReportParams(
        start=moment(start, "from", end_of_day=False),
        end=moment(end, "to", end_of_day=True),
        period=period,
        by=by,
        tz=tz,
        now=moment(as_of, "as_of", end_of_day=True) or now,
        threshold=threshold,
        backtest=backtest,
        locale=locale,
        segment=segment or None,
    )
