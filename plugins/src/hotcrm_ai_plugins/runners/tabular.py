"""Logistic-regression runners (lead scoring, churn): encode rows -> sigmoid(intercept + coef . x).

The artifact (JSON, written by ``hotcrm_ai_plugins.train``) holds the input fields with their checks,
the encoded columns (one-hot, standardised numbers, bins, indicators), the coefficients and the
training means. Training builds its design matrix with this very ``Encoder``, so serving and training
cannot drift apart.

Handling of unusual input (documented in docs/models):
- an unseen category (not in ``choices``) maps to "other": its one-hot columns take the category
  frequencies seen in training (the expected encoding), and ``metadata['unseen']`` names it;
- numbers are clipped to the range seen in training before scoring (a linear model should not
  extrapolate without bound), and ``metadata['clipped']`` names them;
- a missing field, a wrong type, NaN/inf or a value outside the field's physical bounds (e.g. a
  negative tenure) raises ``ValidationError`` naming the field.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hotcrm_ai.errors import FieldError
from hotcrm_ai.types import PredictionOutput
from hotcrm_ai_plugins.runners.checks import as_number, check_rows, field_name, raise_if, show

if TYPE_CHECKING:
    from hotcrm_ai.interfaces import LinearModel


class Encoder:
    """Rows -> design matrix, from the ``fields`` and ``columns`` tables of an artifact."""

    def __init__(self, fields: Sequence[Mapping[str, Any]], columns: Sequence[Mapping[str, Any]]) -> None:
        self.fields = [dict(f) for f in fields]
        self.columns = [dict(c) for c in columns]
        self.groups = tuple(c["field"] for c in self.columns)
        self._by_field: dict[str, list[int]] = {}
        for j, c in enumerate(self.columns):
            self._by_field.setdefault(c["field"], []).append(j)

    def values(self, rows: Sequence[Mapping[str, Any]]) -> tuple[dict[str, list[Any]], list[dict[str, Any]]]:
        """Checked values per field, and per-row notes (unseen categories, clipped numbers)."""
        check_rows(rows)
        batch = len(rows) > 1
        errors: list[FieldError] = []
        notes: list[dict[str, Any]] = [{} for _ in rows]
        out: dict[str, list[Any]] = {}
        for f in self.fields:
            name, col = f["name"], []
            for i, row in enumerate(rows):
                where = field_name(name, i, batch)
                if name not in row or row[name] is None:
                    errors.append(FieldError(where, "a value (required)", "nothing"))
                    col.append(None)
                    continue
                value = row[name]
                if f["kind"] == "category":
                    col.append(self._category(f, value, where, errors, notes[i]))
                else:
                    number = as_number(value, where, errors, minimum=f.get("minimum"), maximum=f.get("maximum"),
                                       integer=bool(f.get("integer")))
                    lo, hi = f["train_min"], f["train_max"]
                    if number < lo or number > hi:
                        notes[i].setdefault("clipped", {})[name] = value
                        number = min(max(number, lo), hi)
                    col.append(number)
            out[name] = col
        raise_if(errors)
        return out, notes

    @staticmethod
    def _category(f: Mapping[str, Any], value: Any, where: str, errors: list[FieldError], note: dict) -> Any:
        choices = f["choices"]
        want_int = isinstance(choices[0], int)
        if want_int:
            ok = not isinstance(value, bool) and isinstance(value, (int, float)) and float(value).is_integer()
            if not ok:
                errors.append(FieldError(where, f"one of {choices}", show(value)))
                return None
            value = int(value)
        elif not isinstance(value, str):
            errors.append(FieldError(where, "a string, e.g. " + ", ".join(map(repr, choices[:4])), show(value)))
            return None
        if value not in choices:
            note.setdefault("unseen", {})[f["name"]] = value if len(str(value)) <= 80 else str(value)[:80] + "..."
        return value

    def encode(self, rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
        return self.encode_values(self.values(rows)[0], len(rows))

    def encode_values(self, values: Mapping[str, list[Any]], n: int) -> np.ndarray:
        x = np.empty((n, len(self.columns)), dtype=np.float64)
        for name, idx in self._by_field.items():
            raw = values[name]
            numeric = None
            known = {self.columns[k]["value"] for k in idx if self.columns[k]["kind"] == "onehot"}
            for j in idx:
                c = self.columns[j]
                kind = c["kind"]
                if kind == "onehot":
                    x[:, j] = [1.0 if v == c["value"] else (c["freq"] if v not in known else 0.0) for v in raw]
                    continue
                if numeric is None:
                    numeric = np.asarray(raw, dtype=np.float64)
                if kind == "standard":
                    v = np.log1p(numeric) if c.get("log1p") else numeric
                    x[:, j] = (v - c["mean"]) / c["std"]
                elif kind == "bin":
                    lo = -np.inf if c["lo"] is None else c["lo"]
                    hi = np.inf if c["hi"] is None else c["hi"]
                    x[:, j] = (numeric >= lo) & (numeric < hi)
                elif kind == "equals":
                    x[:, j] = numeric == c["value"]
                else:  # pragma: no cover - artifacts are written by our trainer
                    raise ValueError(f"unknown column kind {kind!r}")
        return x


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # overflow-free logistic


class LogitRunner:
    """Shared serving path: one matrix product for the whole batch."""

    artifact_name = ""

    def __init__(self, artifact_dir: Path, parameters: Mapping[str, Any]) -> None:
        self.path = Path(artifact_dir) / str(parameters.get("artifact", self.artifact_name))
        art = json.loads(self.path.read_text(encoding="utf-8"))
        self.meta = art
        self.encoder = Encoder(art["fields"], art["columns"])
        self.coef = np.asarray(art["coef"], dtype=np.float64)
        self.intercept = float(art["intercept"])
        self.mean = np.asarray(art["mean"], dtype=np.float64)
        self.threshold = float(art["threshold"])

    def probabilities(self, rows: Sequence[Mapping[str, Any]]) -> tuple[np.ndarray, list[dict[str, Any]]]:
        values, notes = self.encoder.values(rows)
        x = self.encoder.encode_values(values, len(rows))
        return sigmoid(self.intercept + x @ self.coef), notes

    def confidence(self, p: np.ndarray) -> np.ndarray:
        """Distance from the decision threshold, scaled so 100 = the farthest possible probability."""
        t = self.threshold
        return 100.0 * np.where(p >= t, (p - t) / (1.0 - t), (t - p) / t)

    def predict_batch(self, rows: Sequence[Mapping[str, Any]]) -> list[PredictionOutput]:
        if len(rows) == 0:
            return []
        p, notes = self.probabilities(rows)
        conf = np.clip(self.confidence(p), 0.0, 100.0)
        return [PredictionOutput(prediction=self.label(float(pi)), confidence=round(float(ci), 2),
                                 metadata={**note, "threshold": self.threshold})
                for pi, ci, note in zip(p, conf, notes, strict=True)]

    def label(self, p: float) -> dict[str, Any]:  # pragma: no cover - overridden
        raise NotImplementedError

    def linear_model(self) -> LinearModel:
        from hotcrm_ai.interfaces import LinearModel

        return LinearModel(coef=self.coef.copy(), intercept=self.intercept, mean=self.mean.copy(),
                           groups=self.encoder.groups, encode=self.encoder.encode, link="logit",
                           output_kind="log-odds")

    def describe(self) -> dict[str, Any]:
        return {"artifact": self.path.name, "columns": len(self.coef), "fields": len(self.encoder.fields),
                "threshold": self.threshold}


class LeadScoringRunner(LogitRunner):
    """``{score: 0-100, label: hot|warm|cold, probability}``.

    hot = probability at or above the decision threshold (the F1-optimal cut on validation data),
    warm = above the training conversion rate but below that threshold, cold = the rest.
    """

    artifact_name = "lead_scoring.json"

    def label(self, p: float) -> dict[str, Any]:
        warm = float(self.meta["labels"]["warm"])
        label = "hot" if p >= self.threshold else ("warm" if p >= warm else "cold")
        return {"score": round(100.0 * p, 1), "label": label, "probability": round(p, 6)}


class ChurnRunner(LogitRunner):
    """``{risk: high|medium|low, probability}``: high at or above the decision threshold (0.5), medium
    from the ``medium`` cut (training churn rate) up to it, low below."""

    artifact_name = "churn.json"

    def label(self, p: float) -> dict[str, Any]:
        medium = float(self.meta["labels"]["medium"])
        risk = "high" if p >= self.threshold else ("medium" if p >= medium else "low")
        return {"risk": risk, "probability": round(p, 6)}
