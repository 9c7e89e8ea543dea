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
import math
import operator
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from itertools import repeat
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hotcrm_ai.errors import ConfigError, FieldError, ValidationError
from hotcrm_ai.scoring.output import Categories, ColumnOutput
from hotcrm_ai.types import PredictionOutput
from hotcrm_ai_plugins.runners.checks import as_number, brief, check_rows, field_name, raise_if, show
from hotcrm_ai_plugins.runners.options import ChurnOptions, LeadScoringOptions, runner_options

if TYPE_CHECKING:
    from hotcrm_ai.interfaces import LinearModel
    from hotcrm_ai.types import ModelConfig


class Encoder:
    """Rows -> checked values per field -> design matrix (or logits straight from per-field tables).

    Checks and encodings work a whole column at a time: a batch of 10,000 rows costs a few list passes
    per field, not 10,000 x fields Python calls.
    """

    def __init__(self, fields: Sequence[Mapping[str, Any]], columns: Sequence[Mapping[str, Any]]) -> None:
        self.fields = [dict(f) for f in fields]
        self.columns = [dict(c) for c in columns]
        self.groups = tuple(c["field"] for c in self.columns)
        self._by_field: dict[str, list[int]] = {}
        for j, c in enumerate(self.columns):
            self._by_field.setdefault(c["field"], []).append(j)
        self._onehot: dict[str, dict[Any, int]] = {}  # field -> category -> column
        for j, c in enumerate(self.columns):
            if c["kind"] == "onehot":
                self._onehot.setdefault(c["field"], {})[c["value"]] = j
        self._choices = {f["name"]: set(f["choices"]) for f in self.fields if f["kind"] == "category"}

    # ------------------------------------------------------------------ checking
    def schema_mismatches(self, model: ModelConfig) -> list[FieldError]:
        """Where the model's ``features`` would let through a value this artifact cannot take (so the
        core's validation would not imply the checks of ``values``): each as a ``FieldError`` naming
        the field. A model without features has no schema to compare: nothing is reported."""
        if not model.features:
            return []
        specs = {spec.name: spec for spec in model.features}
        found: list[FieldError] = []
        for f in self.fields:
            name, spec = f["name"], specs.get(f["name"])
            if spec is None:
                found.append(FieldError(name, "a feature of the model (the artifact uses it)", "not declared"))
                continue
            if spec.required is False and spec.default is None:
                found.append(FieldError(name, "required or with a default (the artifact needs a value)", "optional"))
            if f["kind"] == "category":
                want = "integer" if isinstance(f["choices"][0], int) else "string"
                if spec.dtype != want:
                    found.append(FieldError(name, f"dtype {want!r} (the artifact's categories)", repr(spec.dtype)))
                continue
            want_types = ("integer",) if f.get("integer") else ("number", "integer")
            if spec.dtype not in want_types:
                found.append(FieldError(name, f"dtype {' or '.join(map(repr, want_types))}", repr(spec.dtype)))
            for bound, tighter in (("minimum", operator.ge), ("maximum", operator.le)):
                limit, given = f.get(bound), getattr(spec, bound)
                if limit is not None and (given is None or not tighter(float(given), float(limit))):
                    rule = ">=" if bound == "minimum" else "<="
                    found.append(FieldError(name, f"{bound} {rule} {limit:g} (the artifact's bound)", repr(given)))
        return found

    def values(
        self, rows: Sequence[Mapping[str, Any]], *, checked: bool = False, with_notes: bool = True
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Values per field (lists for categories, float arrays for numbers, clipped to the training
        range) and per-row notes (unseen categories, clipped numbers); ``with_notes=False`` when only
        the values are wanted (no note table per row; the notes come back empty).

        ``checked=True``: the rows were validated against a schema ``schema_mismatches`` found
        consistent with this artifact, so the per-field checks are skipped (the encoding, clipping
        and notes are not). Otherwise every field is checked and every bad one reported."""
        if checked:
            return self._prepared(rows, with_notes)
        check_rows(rows)
        batch = len(rows) > 1
        errors: list[FieldError] = []
        notes: list[dict[str, Any]] = [{} for _ in rows] if with_notes else defaultdict(dict)  # type: ignore[assignment]
        out: dict[str, Any] = {}
        for f in self.fields:
            name = f["name"]
            try:
                col = list(map(itemgetter(name), rows))
            except KeyError:
                col = [row.get(name) for row in rows]
            if f["kind"] == "category":
                out[name] = self._check_category(f, col, batch, errors, notes)
            else:
                out[name] = self._check_number(f, col, batch, errors, notes)
        raise_if(errors)
        return out, notes if with_notes else []

    def _prepared(
        self, rows: Sequence[Mapping[str, Any]], with_notes: bool
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        notes: list[dict[str, Any]] = [{} for _ in rows] if with_notes else defaultdict(dict)  # type: ignore[assignment]
        out: dict[str, Any] = {}
        for f in self.fields:
            name = f["name"]
            col = list(map(itemgetter(name), rows))
            if f["kind"] == "category":
                self._note_unseen(name, col, notes)
                out[name] = col
            else:
                out[name] = self._clipped(f, col, np.asarray(col, dtype=np.float64), notes)
        return out, notes if with_notes else []

    def column_values(
        self, columns: Mapping[str, Any], n: int, *, checked: bool = False
    ) -> tuple[dict[str, Any], dict[int, dict[str, Any]]]:
        """``values`` for rows given as columns (numpy arrays or lists); notes only for rows that have any.
        ``checked=True`` as for ``values``: the columns passed the core's validation against a schema
        ``schema_mismatches`` accepted, so only the encoding, clipping and notes remain."""
        if checked:
            return self._prepared_columns(columns)
        errors: list[FieldError] = []
        notes: dict[int, dict[str, Any]] = defaultdict(dict)
        out: dict[str, Any] = {}
        for f in self.fields:
            name = f["name"]
            col = columns.get(name)
            if col is None:
                col = [None] * n
            if f["kind"] == "category" and isinstance(col, Categories):
                seen: dict[int, dict[str, Any]] = defaultdict(dict)
                found: list[FieldError] = []
                self._check_category(f, list(col.values), True, found, seen)  # type: ignore[arg-type]
                if not found and not seen and not (col.codes < 0).any():  # every distinct value known
                    out[name] = col
                    continue
                col = col.tolist()
            if f["kind"] == "category":
                out[name] = self._check_category(f, col if isinstance(col, list) else col.tolist(), True, errors, notes)  # type: ignore[arg-type]
            else:
                out[name] = self._check_number(f, col, True, errors, notes)  # type: ignore[arg-type]
        raise_if(errors)
        return out, {i: d for i, d in notes.items() if d}

    def _prepared_columns(self, columns: Mapping[str, Any]) -> tuple[dict[str, Any], dict[int, dict[str, Any]]]:
        notes: dict[int, dict[str, Any]] = defaultdict(dict)
        out: dict[str, Any] = {}
        for f in self.fields:
            name = f["name"]
            col = columns[name]
            if f["kind"] != "category":
                out[name] = self._clipped(f, col, np.asarray(col, dtype=np.float64), notes)
                continue
            known = isinstance(col, Categories) and self._choices[name].issuperset(col.values)
            if known and not (col.codes < 0).any():
                out[name] = col  # every distinct value known: nothing to note
                continue
            col = col.tolist() if isinstance(col, (Categories, np.ndarray)) else col  # values as given
            self._note_unseen(name, col, notes)
            out[name] = col
        return out, {i: d for i, d in notes.items() if d}

    def _check_category(
        self, f: Mapping[str, Any], col: list[Any], batch: bool, errors: list[FieldError], notes: list[dict[str, Any]]
    ) -> list[Any]:
        name, choices = f["name"], self._choices[f["name"]]
        want = int if isinstance(f["choices"][0], int) else str
        if want is str and choices.issuperset(col):  # only strings equal strings: all valid and known
            return col
        if not set(map(type, col)) <= {want}:
            col = list(col)
            for i, v in enumerate(col):
                if type(v) is want:
                    continue
                if want is int and isinstance(v, (int, float)) and not isinstance(v, bool) and float(v).is_integer():
                    col[i] = int(v)
                    continue
                expected = (
                    f"one of {sorted(choices)}"
                    if want is int
                    else "a string, e.g. " + ", ".join(map(repr, f["choices"][:4]))
                )
                got = "nothing (required)" if v is None else show(v)
                errors.append(FieldError(field_name(name, i, batch), expected, got))
        self._note_unseen(name, col, notes, want)
        return col

    def _note_unseen(self, name: str, col: list[Any], notes: Any, want: type | None = None) -> None:
        """``metadata['unseen']`` for values outside the training categories (encoded as "other")."""
        choices = self._choices[name]
        if choices.issuperset(col):
            return
        for i, v in enumerate(col):
            if v not in choices and (want is None or type(v) is want):
                fits = (isinstance(v, str) and len(v) <= 80) or (isinstance(v, int) and abs(v) < 10**80)
                short = v if fits else brief(v).strip("'")
                notes[i].setdefault("unseen", {})[name] = short

    def _check_number(
        self, f: Mapping[str, Any], col: list[Any], batch: bool, errors: list[FieldError], notes: list[dict[str, Any]]
    ) -> np.ndarray:
        name = f["name"]
        lo_ok, hi_ok, integer = f.get("minimum"), f.get("maximum"), bool(f.get("integer"))
        if isinstance(col, np.ndarray):
            return self._check_array(f, col, batch, errors, notes)
        types = set(map(type, col))
        arr = None
        if types <= {int, float}:  # the usual column: checked whole, as an array
            try:
                arr = np.asarray(col, dtype=np.float64)
            except OverflowError:  # an int too large for a float
                pass
            if arr is not None and not self._fits(f, arr, whole=float not in types, ints=col if int in types else None):
                arr = None
        if arr is None:  # slow path: say exactly what is wrong with each bad value
            col = [
                as_number(v, field_name(name, i, batch), errors, minimum=lo_ok, maximum=hi_ok, integer=integer)
                for i, v in enumerate(col)
            ]
            arr = np.asarray(col, dtype=np.float64)
        return self._clipped(f, col, arr, notes)

    @staticmethod
    def _fits(f: Mapping[str, Any], arr: np.ndarray, *, whole: bool = False, ints: Sequence[Any] | None = None) -> bool:
        """Whether every value of a float column passes the field's checks: finite, whole for an
        integer field (unless known ``whole``), within its bounds. ``ints``: the values the column came
        from, when some are ints; past 2**53 a float is not the int it came from, so the bounds are
        then compared on those values themselves."""
        if not len(arr):
            return True
        lo_ok, hi_ok = f.get("minimum"), f.get("maximum")
        low, high = float(arr.min()), float(arr.max())
        if not (math.isfinite(low) and math.isfinite(high)):  # NaN propagates to min and max
            return False
        if f.get("integer") and not whole and not bool((arr == np.floor(arr)).all()):
            return False
        if ints is not None and max(-low, high) >= 2.0**53:
            low, high = min(ints), max(ints)
        return (lo_ok is None or low >= lo_ok) and (hi_ok is None or high <= hi_ok)

    @staticmethod
    def _clipped(f: Mapping[str, Any], col: Sequence[Any] | np.ndarray, arr: np.ndarray, notes: Any) -> np.ndarray:
        """``arr`` clipped to the training range; ``metadata['clipped']`` names the values moved (as
        given: plain Python numbers, also from a numpy column)."""
        lo, hi = f["train_min"], f["train_max"]
        if len(arr) and (arr.min() < lo or arr.max() > hi):
            where = np.flatnonzero((arr < lo) | (arr > hi))
            given = col[where].tolist() if isinstance(col, np.ndarray) else [col[i] for i in where.tolist()]
            for i, value in zip(where.tolist(), given, strict=True):
                notes[i].setdefault("clipped", {})[f["name"]] = value
            arr = np.clip(arr, lo, hi)
        return arr

    def _check_array(
        self, f: Mapping[str, Any], col: np.ndarray, batch: bool, errors: list[FieldError], notes: Any
    ) -> np.ndarray:
        """``_check_number`` for a numeric numpy column: the same checks, whole-array."""
        if col.dtype.kind not in "fiu":
            return self._check_number(f, col.tolist(), batch, errors, notes)
        arr = np.asarray(col, dtype=np.float64)
        if not self._fits(f, arr):
            return self._check_number(f, col.tolist(), batch, errors, notes)
        return self._clipped(f, col, arr, notes)

    # ------------------------------------------------------------------ encoding
    def encode(self, rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
        return self.encode_values(self.values(rows)[0], len(rows))

    def encode_values(self, values: Mapping[str, Any], n: int) -> np.ndarray:
        x = np.zeros((n, len(self.columns)), dtype=np.float64)
        for name, idx in self._by_field.items():
            raw = values[name]
            if name in self._onehot:
                table = self._onehot[name]
                cols = np.fromiter(map(table.get, raw, repeat(-1, n)), dtype=np.int64, count=n)
                known = cols >= 0
                x[np.flatnonzero(known), cols[known]] = 1.0
                if not known.all():
                    freq = [self.columns[j]["freq"] for j in idx]
                    x[np.ix_(np.flatnonzero(~known), np.asarray(idx, dtype=np.intp))] = freq
                continue
            numeric = np.asarray(raw, dtype=np.float64)
            for j in idx:
                x[:, j] = self._numeric_column(self.columns[j], numeric)
        return x

    @staticmethod
    def _numeric_column(c: Mapping[str, Any], v: np.ndarray) -> np.ndarray:
        kind = c["kind"]
        if kind == "standard":
            return ((np.log1p(v) if c.get("log1p") else v) - c["mean"]) / c["std"]
        if kind == "bin":
            lo = -np.inf if c["lo"] is None else c["lo"]
            hi = np.inf if c["hi"] is None else c["hi"]
            return ((v >= lo) & (v < hi)).astype(np.float64)
        if kind == "equals":
            return (v == c["value"]).astype(np.float64)
        raise ValueError(f"unknown column kind {kind!r}")  # pragma: no cover - artifacts are ours

    def logit_tables(self, coef: np.ndarray) -> dict[str, Any]:
        """Each field's share of coef . x, folded into a few numbers: the same sum, computed per field.

        Categories: category -> its coefficient, plus the 'other' value (frequency-weighted). Numbers:
        the standardised columns collapse to ``a * v + b * log1p(v) + c``; each run of consecutive bins
        becomes cut points and one coefficient per bin (a ``searchsorted``); indicators stay as pairs.
        """
        tables: dict[str, Any] = {}
        for name, idx in self._by_field.items():
            if name in self._onehot:
                cols = self._onehot[name]
                other = float(sum(self.columns[j]["freq"] * coef[j] for j in cols.values()))
                tables[name] = ("category", {v: float(coef[j]) for v, j in cols.items()}, other)
                continue
            lin = log = const = 0.0
            runs: list[tuple[list[float], list[float]]] = []
            equals: list[tuple[float, float]] = []
            for j in idx:
                c, w = self.columns[j], float(coef[j])
                if c["kind"] == "standard":
                    if c.get("log1p"):
                        log += w / c["std"]
                    else:
                        lin += w / c["std"]
                    const -= w * c["mean"] / c["std"]
                elif c["kind"] == "bin":
                    if c["lo"] is None or not runs:
                        runs.append(([], []))
                    cuts, weights = runs[-1]
                    if c["lo"] is not None:
                        cuts.append(float(c["lo"]))
                    weights.append(w)
                else:
                    equals.append((float(c["value"]), w))
            tables[name] = ("number", lin, log, const, [(np.asarray(cu), np.asarray(we)) for cu, we in runs], equals)
        return tables

    def logits(self, values: Mapping[str, Any], n: int, intercept: float, tables: Mapping[str, Any]) -> np.ndarray:
        """intercept + coef . x without building x (tables from ``logit_tables``)."""
        z = np.full(n, intercept)
        for name, table in tables.items():
            z += self._field_logit(values[name], n, table)
        return z

    def field_logits(self, values: Mapping[str, Any], n: int, tables: Mapping[str, Any]) -> np.ndarray:
        """(rows x fields): each field's share of coef . x, in ``tables`` order (what linear explanations
        use). Filled a field at a time into contiguous memory, so the result is column-major."""
        out = np.empty((len(tables), n))
        for k, (name, table) in enumerate(tables.items()):
            out[k] = self._field_logit(values[name], n, table)
        return out.T

    @staticmethod
    def _field_logit(raw: Any, n: int, table: Any) -> np.ndarray:
        if table[0] == "category" and isinstance(raw, Categories):  # look up each distinct value once
            return np.fromiter(map(table[1].get, raw.values, repeat(table[2])), dtype=np.float64)[raw.codes]
        if table[0] == "category":
            return np.fromiter(map(table[1].get, raw, repeat(table[2], n)), dtype=np.float64, count=n)
        _, lin, log, const, runs, equals = table
        v = np.asarray(raw, dtype=np.float64)
        z = lin * v + const
        if log:
            z = z + log * np.log1p(v)
        for cuts, weights in runs:
            z = z + weights[np.searchsorted(cuts, v, side="right")]
        for value, w in equals:
            z = z + w * (v == value)
        return z if np.shape(z) == (n,) else np.full(n, float(z))

    def row_logits(self, tables: Mapping[str, Any]) -> Callable[[Mapping[str, Any]], list[float]]:
        """One row -> each field's share of coef . x (``tables`` order), in plain Python: what explaining
        a single row costs when numpy's per-call overhead would dominate. The row comes already
        validated by the host; a value the tables cannot take as it is (a float for an integer
        category, a number outside the field's bounds, a missing field) goes through ``values`` and
        ``field_logits``, which clip, map and report errors exactly as a prediction does. Same numbers
        as ``field_logits`` (same operations in the same order)."""
        steps = [(name, self._row_step(self._spec(name), table)) for name, table in tables.items()]
        slow_tables = tables

        def logits(row: Mapping[str, Any]) -> list[float]:
            try:
                return [step(row[name]) for name, step in steps]
            except (_Unfit, KeyError):  # the column path clips, maps or names the bad field
                pass
            return self.field_logits(self.values([row])[0], 1, slow_tables)[0].tolist()  # type: ignore[no-any-return]

        return logits

    def _spec(self, name: str) -> Mapping[str, Any]:
        return next(f for f in self.fields if f["name"] == name)

    def row_logit(self, tables: Mapping[str, Any], intercept: float) -> Callable[[Mapping[str, Any]], float]:
        """One row -> intercept + coef . x, in plain Python, for a row with nothing to note: a value
        that would be clipped to the training range or is an unseen category, or one the tables cannot
        take as it is, raises ``_Unfit`` (``KeyError`` for a missing field), and the caller sends the
        row through ``values`` and ``logits``, which note, clip and check it. Otherwise the same float
        as ``logits`` (same operations in the same order), without numpy's per-call cost on one row."""
        steps = [(name, self._row_step(self._spec(name), table, strict=True)) for name, table in tables.items()]

        def logit(row: Mapping[str, Any]) -> float:
            z = intercept
            for name, step in steps:
                z += step(row[name])
            return z

        return logit

    @staticmethod
    def _row_step(f: Mapping[str, Any], table: Any, *, strict: bool = False) -> Callable[[Any], float]:
        """One field's share of coef . x for one value. ``strict``: also refuse (``_Unfit``) what the
        column path would note (an unseen category, a number outside the training range)."""
        if table[0] == "category":
            known, other = dict(table[1]), float(table[2])
            want = int if isinstance(f["choices"][0], int) else str

            def category(v: Any) -> float:
                if type(v) is not want:
                    raise _Unfit
                return known.get(v, other)

            def seen_category(v: Any) -> float:
                if type(v) is not want:
                    raise _Unfit
                try:
                    return known[v]
                except KeyError:
                    raise _Unfit from None

            return seen_category if strict else category
        _, lin, log, const, runs, equals = table
        integer = bool(f.get("integer"))
        # the field's bounds, within the float range (NaN, infinities and huge integers fail the test)
        low = -_BIG if f.get("minimum") is None else max(float(f["minimum"]), -_BIG)
        high = _BIG if f.get("maximum") is None else min(float(f["maximum"]), _BIG)
        lo, hi = float(f["train_min"]), float(f["train_max"])
        py_runs = [(cuts.tolist(), weights.tolist()) for cuts, weights in runs]
        log_w = float(log)
        log1p = _array_log1p if strict else math.log1p

        def number(v: Any) -> float:
            t = type(v)
            if (t is not int and t is not float) or not low <= v <= high:
                raise _Unfit
            if integer and t is float and not v.is_integer():
                raise _Unfit
            x = float(v)
            if x < lo or x > hi:
                if strict:
                    raise _Unfit
                x = lo if x < lo else hi
            z = lin * x + const
            if log_w:
                z = z + log_w * log1p(x)
            for cuts, weights in py_runs:
                z = z + weights[bisect_right(cuts, x)]
            for value, w in equals:
                z = z + w * (x == value)
            return z

        return number


class _Unfit(Exception):
    """A value the per-row tables do not take as it is: the row goes through the column path."""


_BIG = 1.7976931348623157e308


def _array_log1p(x: float) -> float:
    """numpy's log1p of ``x``, as the column path computes it: ``math.log1p`` can differ in the last
    bit, and a prediction must be the column path's to the bit (an explanation's terms need not)."""
    return float(np.log1p(np.array((x,)))[0])


class ArtifactSchemaError(ConfigError):
    """A model's ``features`` and its artifact's input fields disagree (found when the runner loads):
    the message names the model, the artifact and each field with what the artifact needs."""

    def __init__(self, model_id: str, artifact: str, mismatches: list[FieldError]) -> None:
        self.model_id, self.artifact, self.mismatches = model_id, artifact, mismatches
        detail = str(ValidationError(mismatches, subject=f"features of model {model_id} vs artifact {artifact}"))
        super().__init__(detail)


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # overflow-free logistic


class LogitRunner:
    """Shared serving path: one pass over the fields for the whole batch (no design matrix needed)."""

    Options: type[LeadScoringOptions] | type[ChurnOptions]

    def __init__(self, artifact_dir: Path, parameters: Mapping[str, Any] | LeadScoringOptions | ChurnOptions) -> None:
        self.path = Path(artifact_dir) / runner_options(self.Options, parameters).artifact
        art = json.loads(self.path.read_text(encoding="utf-8"))
        self.meta = art
        self.encoder = Encoder(art["fields"], art["columns"])
        self.coef = np.asarray(art["coef"], dtype=np.float64)
        self.intercept = float(art["intercept"])
        self.mean = np.asarray(art["mean"], dtype=np.float64)
        self.threshold = float(art["threshold"])
        self._tables = self.encoder.logit_tables(self.coef)
        self._row_logit = self.encoder.row_logit(self._tables, self.intercept)

    def check_schema(self, model: ModelConfig) -> None:
        """At load: ``ArtifactSchemaError`` when the model's features let through values this artifact
        cannot take. Once it passes, rows the core validated need no second check (``checked=True``)."""
        mismatches = self.encoder.schema_mismatches(model)
        if mismatches:
            raise ArtifactSchemaError(model.id, self.path.name, mismatches)

    def probabilities(
        self, rows: Sequence[Mapping[str, Any]], *, checked: bool = False
    ) -> tuple[np.ndarray, list[dict[str, Any]]]:
        values, notes = self.encoder.values(rows, checked=checked)
        return sigmoid(self.encoder.logits(values, len(rows), self.intercept, self._tables)), notes

    def confidence(self, p: np.ndarray) -> np.ndarray:
        """Distance from the decision threshold, scaled so 100 = the farthest possible probability."""
        t = self.threshold
        return 100.0 * np.where(p >= t, (p - t) / (1.0 - t), (t - p) / t)

    def predict_batch(self, rows: Sequence[Mapping[str, Any]], *, checked: bool = False) -> list[PredictionOutput]:
        """One answer per row. ``checked=True`` only for rows validated against a model schema that
        ``check_schema`` accepted (what the custom provider passes for the prediction service's rows)."""
        if len(rows) == 0:
            return []
        if checked and len(rows) == 1:  # one validated row (every single prediction): no numpy per field
            try:
                z = self._row_logit(rows[0])
            except (_Unfit, KeyError):
                pass
            else:
                return self._outputs(sigmoid(np.array([z])), [{}])
        return self._outputs(*self.probabilities(rows, checked=checked))

    def _outputs(self, p: np.ndarray, notes: Sequence[Mapping[str, Any]]) -> list[PredictionOutput]:
        conf = np.round(np.clip(self.confidence(p), 0.0, 100.0), 2).tolist()
        return [
            PredictionOutput(prediction=pred, confidence=ci, metadata={**note, "threshold": self.threshold})
            for pred, ci, note in zip(self.labels(p), conf, notes, strict=True)
        ]

    def predict_columns(self, columns: Mapping[str, Any], n: int, *, checked: bool = False) -> ColumnOutput:
        """The same answers as ``predict_batch``, column-wise: one pass per field, no per-row objects.
        ``checked`` as for ``predict_batch``: columns the core validated against an accepted schema."""
        values, notes = self.encoder.column_values(columns, n, checked=checked)
        p = sigmoid(self.encoder.logits(values, n, self.intercept, self._tables))
        return ColumnOutput(
            prediction=self.label_columns(p),
            confidence=np.round(np.clip(self.confidence(p), 0.0, 100.0), 2),
            metadata={"threshold": self.threshold},
            notes=notes,
        )

    def labels(self, p: np.ndarray) -> list[dict[str, Any]]:
        cols = {k: v.tolist() for k, v in self.label_columns(p).items()}
        return [dict(zip(cols, values, strict=True)) for values in zip(*cols.values(), strict=True)]

    def label_columns(self, p: np.ndarray) -> dict[str, Any]:  # pragma: no cover - overridden
        raise NotImplementedError

    def linear_model(self) -> LinearModel:
        from hotcrm_ai.interfaces import LinearModel

        encoder, tables = self.encoder, self._tables

        def terms(rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
            return encoder.field_logits(encoder.values(rows, with_notes=False)[0], len(rows), tables)

        def column_terms(columns: Mapping[str, Any], n: int) -> np.ndarray:
            return encoder.field_logits(encoder.column_values(columns, n)[0], n, tables)

        return LinearModel(
            coef=self.coef.copy(),
            intercept=self.intercept,
            mean=self.mean.copy(),
            groups=self.encoder.groups,
            encode=self.encoder.encode,
            link="logit",
            output_kind="log-odds",
            terms=terms,
            term_fields=tuple(tables),
            row_terms=encoder.row_logits(tables),
            column_terms=column_terms,
        )

    def describe(self) -> dict[str, Any]:
        return {
            "artifact": self.path.name,
            "columns": len(self.coef),
            "fields": len(self.encoder.fields),
            "threshold": self.threshold,
        }


class LeadScoringRunner(LogitRunner):
    """``{score: 0-100, label: hot|warm|cold, probability}``.

    hot = probability at or above the decision threshold (the F1-optimal cut on validation data),
    warm = above the training conversion rate but below that threshold, cold = the rest.
    """

    Options = LeadScoringOptions

    def label_columns(self, p: np.ndarray) -> dict[str, Any]:
        warm = float(self.meta["labels"]["warm"])
        label = Categories((p >= warm).astype(np.int64) + (p >= self.threshold), ("cold", "warm", "hot"))
        return {"score": np.round(100.0 * p, 1), "label": label, "probability": np.round(p, 6)}


class ChurnRunner(LogitRunner):
    """``{risk: high|medium|low, probability}``: high at or above the decision threshold (0.5), medium
    from the ``medium`` cut (training churn rate) up to it, low below."""

    Options = ChurnOptions

    def label_columns(self, p: np.ndarray) -> dict[str, Any]:
        medium = float(self.meta["labels"]["medium"])
        risk = Categories((p >= medium).astype(np.int64) + (p >= self.threshold), ("low", "medium", "high"))
        return {"risk": risk, "probability": np.round(p, 6)}
