"""Olist's marketing funnel (../shared/data): where it is and how to read its CSV files in tests."""

from __future__ import annotations

import csv
from pathlib import Path

from tests.conftest import SHARED_DATA

OLIST = SHARED_DATA / "olist-marketing-funnel"
EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples"


def read(name: str) -> list[dict[str, str]]:
    with (OLIST / name).open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))
