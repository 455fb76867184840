"""Learning the probability of an outcome from leads whose result is known.

The labelled leads are put in time order (by creation): the oldest 60 % train, the next 20 %
(validation) choose between logistic regression and histogram gradient boosting by AUC and
calibrate the winner (isotonic with enough validation leads, else a sigmoid), and the newest 20 %
(holdout) — never seen while fitting or choosing — give the metrics.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss, roc_auc_score
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from leadops.errors import LeadopsError
from leadops.predict.design import Design, fit_design
from leadops.predict.features import LeadFacts

Matrix = np.ndarray[Any, np.dtype[np.float64]]
RANDOM_STATE = 0
#: Isotonic calibration needs this many validation leads; below it a sigmoid is fitted.
ISOTONIC_MIN = 1000
#: Training leads the partial dependence of a boosting model is averaged over.
SAMPLE = 200


class NotEnoughHistory(LeadopsError):
    """Too few leads with a known result to learn from."""


@dataclass
class Linear:
    """Logistic regression over standardized columns: numbers (missing set to the training median,
    plus a missing flag) and one 0/1 column per category value."""

    design: Design
    missing: list[int] = field(default_factory=list)
    groups: list[int] = field(default_factory=list)
    scaler: StandardScaler = field(default_factory=StandardScaler)
    model: LogisticRegression = field(
        default_factory=lambda: LogisticRegression(C=0.5, max_iter=2000)
    )

    def expand(self, x: Matrix) -> Matrix:
        parts, groups = [], []
        for j, column in enumerate(self.design.columns):
            values = x[:, j]
            if column.kind == "number":
                filled = np.where(np.isnan(values), column.baseline, values)
                parts.append(np.sign(filled) * np.log1p(np.abs(filled)))
                groups.append(j)
                if j in self.missing:
                    parts.append(np.isnan(values).astype(float))
                    groups.append(j)
            else:
                for code in range(len(column.values)):
                    parts.append((values == code).astype(float))
                    groups.append(j)
        self.groups = groups
        return np.column_stack(parts) if parts else np.zeros((len(x), 0))

    def fit(self, x: Matrix, y: Matrix) -> Linear:
        self.missing = [
            j
            for j, c in enumerate(self.design.columns)
            if c.kind == "number" and bool(np.isnan(x[:, j]).any())
        ]
        z = self.scaler.fit_transform(self.expand(x))
        self.model.fit(z, y)
        return self

    def decision(self, x: Matrix) -> Matrix:
        return np.asarray(self.model.decision_function(self.scaler.transform(self.expand(x))))

    def contributions(self, x: Matrix) -> Matrix:
        """Per lead and column: the coefficient × standardized value, summed over the column's
        expanded parts (log-odds against the average training lead)."""
        z = self.scaler.transform(self.expand(x)) * self.model.coef_[0]
        out = np.zeros((len(x), len(self.design.columns)))
        for k, j in enumerate(self.groups):
            out[:, j] += z[:, k]
        return out


@dataclass
class Dependence:
    """How the model's score moves with one column, averaged over a sample of training leads
    (partial dependence): the score at each point of a grid of the column's values."""

    grid: Matrix
    scores: Matrix
    missing: float
    usual: float


@dataclass
class Boosting:
    design: Design
    model: HistGradientBoostingClassifier | None = None
    dependence: list[Dependence] = field(default_factory=list)

    def fit(self, x: Matrix, y: Matrix) -> Boosting:
        mask = np.array(self.design.categorical, dtype=bool)
        self.model = HistGradientBoostingClassifier(
            max_iter=150,
            learning_rate=0.08,
            max_leaf_nodes=15,
            min_samples_leaf=20,
            l2_regularization=1.0,
            categorical_features=mask if mask.any() else None,
            early_stopping=False,
            random_state=RANDOM_STATE,
        )
        with threadpool_limits(limits=1):
            self.model.fit(x, y)
            self.dependence = self._dependence(x)
        return self

    def _grids(self, x: Matrix) -> list[Matrix]:
        grids = []
        for j, column in enumerate(self.design.columns):
            if column.kind == "category":
                grids.append(np.arange(len(column.values), dtype=float))
                continue
            values = x[:, j][~np.isnan(x[:, j])]
            points = np.unique(np.quantile(values, np.linspace(0, 1, 11)))
            grids.append(np.append(points, np.nan))
        return grids

    def _dependence(self, x: Matrix) -> list[Dependence]:
        rng = np.random.default_rng(RANDOM_STATE)
        sample = x[rng.choice(len(x), min(SAMPLE, len(x)), replace=False)]
        grids = self._grids(x)
        blocks = []
        for j, grid in enumerate(grids):
            block = np.tile(sample, (len(grid), 1))
            block[:, j] = np.repeat(grid, len(sample))
            blocks.append(block)
        scores = self.decision(np.vstack(blocks)).reshape(-1, len(sample)).mean(axis=1)
        out, start = [], 0
        for j, grid in enumerate(grids):
            part = scores[start : start + len(grid)]
            start += len(grid)
            column = self.design.columns[j]
            if column.kind == "category":
                dep = Dependence(grid, part, math.nan, 0.0)
                dep.usual = float(part[int(column.baseline)])
            else:
                dep = Dependence(grid[:-1], part[:-1], float(part[-1]), 0.0)
                dep.usual = float(np.interp(column.baseline, dep.grid, dep.scores))
            out.append(dep)
        return out

    def decision(self, x: Matrix) -> Matrix:
        assert self.model is not None
        with threadpool_limits(limits=1):
            return np.asarray(self.model.decision_function(x))

    def contributions(self, x: Matrix) -> Matrix:
        """Per lead and column: the partial dependence at the lead's value less the one at the
        column's usual value (log-odds)."""
        out = np.zeros((len(x), len(self.design.columns)))
        for j, (column, dep) in enumerate(zip(self.design.columns, self.dependence, strict=True)):
            values = x[:, j]
            if column.kind == "category":
                codes = np.clip(values.astype(int), 0, len(dep.scores) - 1)
                out[:, j] = dep.scores[codes] - dep.usual
                continue
            missing = np.isnan(values)
            at = np.interp(np.where(missing, column.baseline, values), dep.grid, dep.scores)
            out[:, j] = np.where(missing, dep.missing, at) - dep.usual
        return out


@dataclass
class Calibrator:
    """Maps a model's raw score to a probability, fitted on the validation slice."""

    method: str
    isotonic: IsotonicRegression | None = None
    sigmoid: LogisticRegression | None = None

    @classmethod
    def fit(cls, raw: Matrix, y: Matrix) -> Calibrator:
        if len(y) >= ISOTONIC_MIN:
            iso = IsotonicRegression(out_of_bounds="clip", y_min=0.001, y_max=0.999)
            iso.fit(raw, y)
            return cls("isotonic", isotonic=iso)
        sig = LogisticRegression(C=1e4, max_iter=1000)
        sig.fit(raw.reshape(-1, 1), y)
        return cls("sigmoid", sigmoid=sig)

    def __call__(self, raw: Matrix) -> Matrix:
        if self.isotonic is not None:
            return np.asarray(self.isotonic.predict(raw))
        assert self.sigmoid is not None
        return np.asarray(self.sigmoid.predict_proba(raw.reshape(-1, 1))[:, 1])


@dataclass
class Trained:
    """What is stored: the design, the chosen model and its calibration."""

    kind: str
    design: Design
    model: Linear | Boosting
    calibrator: Calibrator

    def probabilities(self, x: Matrix) -> Matrix:
        return np.clip(self.calibrator(self.model.decision(x)), 0.0, 1.0)


@dataclass
class Training:
    trained: Trained
    metrics: dict[str, Any]


def precision_at(y: Matrix, p: Matrix, share: float = 0.2) -> float:
    top = max(1, math.ceil(share * len(y)))
    order = np.argsort(-p, kind="stable")[:top]
    return float(np.mean(y[order]))


def calibration_table(y: Matrix, p: Matrix, bins: int = 5) -> list[dict[str, float]]:
    """The holdout in ``bins`` groups of equal size by predicted probability: each group's
    predicted mean against what happened."""
    order = np.argsort(p, kind="stable")
    out = []
    for part in np.array_split(order, bins):
        if len(part) == 0:
            continue
        out.append(
            {
                "from": round(float(p[part].min()), 4),
                "to": round(float(p[part].max()), 4),
                "leads": int(len(part)),
                "predicted": round(float(p[part].mean()), 4),
                "observed": round(float(y[part].mean()), 4),
            }
        )
    return out


def _auc(y: Matrix, score: Matrix) -> float:
    if len(set(y.tolist())) < 2:
        return math.nan
    return float(roc_auc_score(y, score))


def split(leads: Sequence[LeadFacts]) -> tuple[list[LeadFacts], list[LeadFacts], list[LeadFacts]]:
    ordered = sorted(leads, key=lambda lead: (lead.created_at, lead.lead_id))
    n = len(ordered)
    a, b = int(n * 0.6), int(n * 0.8)
    return ordered[:a], ordered[a:b], ordered[b:]


def check_enough(leads: Sequence[LeadFacts], min_leads: int, min_positives: int) -> None:
    total = len(leads)
    positives = sum(1 for lead in leads if lead.label == 1)
    if total < min_leads or positives < min_positives:
        raise NotEnoughHistory(
            f"not enough history to learn from: {total} leads with a known result, {positives} "
            f"of them reached the outcome; at least {min_leads} leads and {min_positives} that "
            "reached it are needed (settings predict_min_leads, predict_min_positives)",
            detail={"leads": total, "positives": positives},
        )
    for name, part in zip(("training", "validation", "holdout"), split(leads), strict=True):
        labels = {lead.label for lead in part}
        if labels != {0, 1}:
            raise NotEnoughHistory(
                f"the {name} slice (in time order) has only one kind of result; "
                "more history is needed on both sides",
                detail={"slice": name},
            )


def _labels(leads: Sequence[LeadFacts]) -> Matrix:
    return np.array([lead.label for lead in leads], dtype=float)


def train(
    leads: Sequence[LeadFacts],
    activity_types: Sequence[str],
    *,
    min_leads: int = 200,
    min_positives: int = 40,
    exclude: Sequence[str] = (),
) -> Training:
    """Fit, choose, calibrate and measure on these labelled leads, or refuse below the minimum."""
    check_enough(leads, min_leads, min_positives)
    fit_part, val_part, test_part = split(leads)
    design = fit_design(fit_part, activity_types, exclude)
    x_fit, x_val, x_test = (design.matrix(p) for p in (fit_part, val_part, test_part))
    y_fit, y_val, y_test = (_labels(p) for p in (fit_part, val_part, test_part))
    candidates: dict[str, Linear | Boosting] = {
        "logistic": Linear(design).fit(x_fit, y_fit),
        "boosting": Boosting(design).fit(x_fit, y_fit),
    }
    validation = {k: _auc(y_val, m.decision(x_val)) for k, m in candidates.items()}
    kind = max(validation, key=lambda k: (np.nan_to_num(validation[k]), k == "logistic"))
    model = candidates[kind]
    trained = Trained(kind, design, model, Calibrator.fit(model.decision(x_val), y_val))
    p = trained.probabilities(x_test)
    rules_score = np.array([lead.score for lead in test_part], dtype=float)
    created = [lead.created_at for lead in fit_part]
    metrics = {
        "auc": round(_auc(y_test, p), 4),
        "log_loss": round(float(log_loss(y_test, np.clip(p, 1e-6, 1 - 1e-6), labels=[0, 1])), 4),
        "precision_top_20": round(precision_at(y_test, p), 4),
        "base_rate": round(float(y_test.mean()), 4),
        "training_base_rate": round(float(y_fit.mean()), 4),
        "rules_score_auc": round(_auc(y_test, rules_score), 4),
        "validation_auc": {k: round(v, 4) for k, v in validation.items()},
        "calibration": calibration_table(y_test, p),
        "calibration_method": trained.calibrator.method,
        "training_size": len(fit_part),
        "training_positives": int(y_fit.sum()),
        "validation_size": len(val_part),
        "holdout_size": len(test_part),
        "holdout_positives": int(y_test.sum()),
        "labelled": len(leads),
        "trained_from": min(created).isoformat(),
        "trained_to": max(created).isoformat(),
        "holdout_from": test_part[0].created_at.isoformat(),
        "holdout_to": test_part[-1].created_at.isoformat(),
        "features": design.names,
        "excluded": design.excluded,
        "notes": _notes(int(y_test.sum()), len(test_part)),
    }
    return Training(trained, metrics)


#: Fewer holdout leads than this with the outcome make its metrics a guess.
RELIABLE_POSITIVES = 20


def _notes(positives: int, size: int) -> list[str]:
    if positives >= RELIABLE_POSITIVES:
        return []
    return [
        f"only {positives} of the {size} holdout leads reached the outcome: the holdout's "
        "metrics are not reliable (recent leads may not have had the time to reach it; try an "
        "earlier --as-of)"
    ]
