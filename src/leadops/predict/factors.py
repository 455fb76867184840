"""Why a lead got its probability: the three columns that raise it most and the three that lower it
most, in plain words.

- Logistic regression: a column's contribution is its coefficient × the lead's standardized value
  (summed over the column's parts), in log-odds against the average training lead. These add up
  exactly to the model's score before calibration.
- Gradient boosting: a column's contribution is its partial dependence at the lead's value less
  the one at the column's usual training value (the median number, the commonest category): how
  much the model's score (log-odds) moves, averaged over a sample of training leads, when only
  that column changes. It is an estimate: it ignores how columns interact for this one lead, and
  contributions do not add up to the score.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from leadops.predict.design import factor_words
from leadops.predict.features import LeadFacts
from leadops.predict.train import Boosting, Linear, Matrix, Trained

TOP = 3


def contributions(trained: Trained, x: Matrix) -> Matrix:
    assert isinstance(trained.model, Linear | Boosting)
    return trained.model.contributions(x)


def factors(
    trained: Trained,
    leads: Sequence[LeadFacts],
    x: Matrix,
    labels: Mapping[str, tuple[str, str]],
) -> list[list[dict[str, Any]]]:
    """For each lead: up to three factors that raise its probability (strongest first), then up
    to three that lower it."""
    effects = contributions(trained, x)
    columns = trained.design.columns
    out = []
    for i, lead in enumerate(leads):
        row = effects[i]
        order = np.argsort(-row, kind="stable")
        raising = [j for j in order[:TOP] if row[j] > 1e-9]
        lowering = [j for j in order[::-1][:TOP] if row[j] < -1e-9]
        found = []
        for j in [*raising, *lowering]:
            column = columns[j]
            value = trained.design.raw(lead, column.name)
            ja, en = factor_words(column, value, labels)
            found.append(
                {
                    "feature": column.name,
                    "value": value if isinstance(value, int | float | str | None) else str(value),
                    "effect": round(float(row[j]), 4),
                    "direction": "raises" if row[j] > 0 else "lowers",
                    "ja": ja,
                    "en": en,
                }
            )
        out.append(found)
    return out
