"""The feature table: lead facts turned into columns of numbers, with each column's name in plain
words (Japanese and English).

Numbers stay numbers (missing is NaN); a category becomes an integer code over the values seen at
least ``MIN_COUNT`` times in training (the rest share "other"). Custom fields are typed by their
values: a field whose filled values are nearly all numbers is a number, any other a category.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from leadops.predict.features import DAY, LeadFacts

MIN_COUNT = 5
MAX_CATEGORIES = 40
OTHER = "\x00other"
BLANK = "\x00blank"
#: Fields every lead has, and how each is typed.
BUILTIN_CATEGORIES = (
    "source",
    "campaign_type",
    "prefecture",
    "region",
    "account.industry",
    "title_class",
    "free_mail",
    "has_company",
)
BUILTIN_NUMBERS = ("account.employees", "score", "level", "activities", "recency_days")
LABELS: dict[str, tuple[str, str]] = {
    "source": ("経路", "Source"),
    "campaign_type": ("キャンペーン種別", "Campaign type"),
    "prefecture": ("都道府県", "Prefecture"),
    "region": ("地域", "Region"),
    "account.industry": ("業種", "Industry"),
    "title_class": ("役職区分", "Title class"),
    "free_mail": ("フリーメール", "Free mail"),
    "has_company": ("会社名あり", "Company known"),
    "account.employees": ("従業員数", "Employees"),
    "score": ("スコア", "Score"),
    "level": ("確度レベル", "Level"),
    "activities": ("行動の件数", "Activities"),
    "recency_days": ("最後の行動からの日数", "Days since the last activity"),
}


def _number(value: Any) -> float | None:
    if type(value) is int:
        return float(value)
    if isinstance(value, bool) or value is None or value == "":
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(float(value)) else None
    try:
        number = float(str(value).replace(",", "").strip())
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _category(value: Any) -> str:
    if value is None or value == "" or value == []:
        return BLANK
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)[:200]


@dataclass
class Column:
    name: str
    kind: str  # "number" or "category"
    #: A category's known values, in code order (code = index).
    values: list[str] = field(default_factory=list)
    #: What "usual" is for this column in training: the median number or the commonest code.
    baseline: float = math.nan


@dataclass
class Design:
    """The columns a model was trained on (kept with the model so scoring builds the same)."""

    columns: list[Column]
    activity_types: list[str]
    excluded: list[str] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def categorical(self) -> list[bool]:
        return [c.kind == "category" for c in self.columns]

    def raw(self, lead: LeadFacts, name: str) -> Any:
        if name.startswith("count."):
            return lead.counts.get(name.removeprefix("count."), 0)
        if name == "activities":
            return sum(lead.counts.values())
        if name == "recency_days":
            if lead.last_activity_at is None:
                return None
            return (lead.cutoff - lead.last_activity_at).total_seconds() / DAY
        if name == "score":
            return lead.score
        if name == "level":
            return lead.level_at_cutoff
        return lead.fields.get(name)

    def reader(self, name: str) -> Callable[[LeadFacts], Any]:
        """``raw`` for one column, decided once (the matrix reads every lead's every column)."""
        if name.startswith("count."):
            kind = name.removeprefix("count.")
            return lambda lead: lead.counts.get(kind, 0)
        if name in ("activities", "recency_days", "score", "level"):
            return lambda lead: self.raw(lead, name)
        return lambda lead: lead.fields.get(name)

    def matrix(self, leads: Sequence[LeadFacts]) -> np.ndarray[Any, np.dtype[np.float64]]:
        out = np.full((len(leads), len(self.columns)), np.nan)
        counted = {
            c.name.removeprefix("count."): j
            for j, c in enumerate(self.columns)
            if c.name.startswith("count.")
        }
        if counted:
            out[:, list(counted.values())] = 0.0
            for i, lead in enumerate(leads):
                for kind, n in lead.counts.items():
                    j = counted.get(kind)
                    if j is not None:
                        out[i, j] = n
        for j, column in enumerate(self.columns):
            if column.name.startswith("count."):
                continue
            read = self.reader(column.name)
            if column.kind == "number":
                values = [_number(read(lead)) for lead in leads]
                out[:, j] = [np.nan if v is None else v for v in values]
            else:
                codes = {v: i for i, v in enumerate(column.values)}
                other = codes[OTHER]
                out[:, j] = [codes.get(_category(read(lead)), other) for lead in leads]
        return out


def _custom_names(leads: Sequence[LeadFacts]) -> Counter[str]:
    seen: Counter[str] = Counter()
    for lead in leads:
        for name, value in lead.fields.items():
            if name.startswith("custom.") and value not in (None, "", []):
                seen[name] += 1
    return seen


def _is_numeric(values: Sequence[Any]) -> bool:
    filled = [v for v in values if v not in (None, "", [])]
    if not filled:
        return False
    numbers = sum(1 for v in filled if _number(v) is not None)
    distinct = len({str(v) for v in filled})
    return numbers >= 0.95 * len(filled) and distinct > 2


def fit_design(
    leads: Sequence[LeadFacts], activity_types: Sequence[str], exclude: Sequence[str] = ()
) -> Design:
    """The columns to learn from, typed and coded from the training leads."""
    excluded = set(exclude)
    types = sorted({t for lead in leads for t in lead.counts} & set(activity_types))
    types += sorted({t for lead in leads for t in lead.counts} - set(types))
    design = Design([], types, sorted(excluded))
    custom = [n for n, c in sorted(_custom_names(leads).items()) if c >= MIN_COUNT]
    numbers = list(BUILTIN_NUMBERS) + [f"count.{t}" for t in types]
    categories = list(BUILTIN_CATEGORIES)
    for name in custom:
        values = [lead.fields.get(name) for lead in leads]
        (numbers if _is_numeric(values) else categories).append(name)
    for name in numbers:
        if name in excluded:
            continue
        column = Column(name, "number")
        raw = [_number(design.raw(lead, name)) for lead in leads]
        filled = [v for v in raw if v is not None]
        if len(set(filled)) < 2:
            continue
        column.baseline = float(np.median(filled))
        design.columns.append(column)
    for name in categories:
        if name in excluded:
            continue
        counts = Counter(_category(design.raw(lead, name)) for lead in leads)
        kept = [v for v, c in counts.most_common(MAX_CATEGORIES) if c >= MIN_COUNT]
        if len(kept) < 2:
            continue
        coded = sorted(kept) + [OTHER]
        column = Column(name, "category", coded, float(coded.index(kept[0])))
        design.columns.append(column)
    return design


def column_label(name: str, labels: Mapping[str, tuple[str, str]]) -> tuple[str, str]:
    """A column's name in Japanese and English."""
    if name in LABELS:
        return LABELS[name]
    if name.startswith("count."):
        ja, en = labels.get(name.removeprefix("count."), (name[6:], name[6:].replace("_", " ")))
        return f"{ja}の回数", f"{en} (count)"
    if name.startswith("custom."):
        return name.removeprefix("custom."), name.removeprefix("custom.")
    return name, name


def value_words(column: Column, value: Any) -> tuple[str, str]:
    """A lead's value of a column as it reads on the page, in Japanese and English."""
    if column.kind == "number":
        number = _number(value)
        if number is None:
            return "未入力", "blank"
        text = f"{number:,.0f}" if abs(number) >= 10 or number == int(number) else f"{number:.1f}"
        return text, text
    category = _category(value)
    if category == BLANK:
        return "未入力", "blank"
    if category == "true":
        return "はい", "yes"
    if category == "false":
        return "いいえ", "no"
    if category not in column.values:
        return f"{category}（少数の値）", f"{category} (a rare value)"
    return category, category


def factor_words(
    column: Column, value: Any, labels: Mapping[str, tuple[str, str]]
) -> tuple[str, str]:
    (label_ja, label_en), (value_ja, value_en) = (
        column_label(column.name, labels),
        value_words(column, value),
    )
    return f"{label_ja}: {value_ja}", f"{label_en}: {value_en}"


def at_cutoff(leads: Sequence[LeadFacts], now: datetime) -> None:
    """Leads without a result are seen as they are at ``now``."""
    for lead in leads:
        lead.cutoff = now
