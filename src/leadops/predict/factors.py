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
    readers = [trained.design.reader(c.name) for c in columns]
    top = min(TOP, len(columns))
    order = np.argsort(-effects, axis=1, kind="stable")
    up, down = order[:, :top], order[:, ::-1][:, :top]
    rounded = np.round(effects, 4)
    up_effects = np.take_along_axis(rounded, up, axis=1).tolist()
    down_effects = np.take_along_axis(rounded, down, axis=1).tolist()
    names = [c.name for c in columns]
    words: dict[tuple[int, Any], tuple[str, str]] = {}
    out = []
    rows = zip(leads, up.tolist(), up_effects, down.tolist(), down_effects, strict=True)
    for lead, up_j, up_e, down_j, down_e in rows:
        chosen = [(j, e) for j, e in zip(up_j, up_e, strict=True) if e > 0] + [
            (j, e) for j, e in zip(down_j, down_e, strict=True) if e < 0
        ]
        found = []
        for j, effect in chosen:
            value = readers[j](lead)
            if not isinstance(value, int | float | str | None):
                value = str(value)
            key = (j, round(value, 1) if isinstance(value, float) else value)
            if key not in words:
                words[key] = factor_words(columns[j], value, labels)
            ja, en = words[key]
            found.append(
                {
                    "feature": names[j],
                    "value": value,
                    "effect": effect,
                    "direction": "raises" if effect > 0 else "lowers",
                    "ja": ja,
                    "en": en,
                }
            )
        out.append(found)
    return out
