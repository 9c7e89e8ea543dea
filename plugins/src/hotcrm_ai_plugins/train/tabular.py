"""Train the logistic-regression classifiers (lead scoring, churn).

Split 60/20/20 (stratified, seeded): feature recipes and the L2 strength are chosen by ROC AUC on the
validation part, or (``cv_folds`` set) by the mean ROC AUC of a seeded stratified k-fold CV over
train+validation, which is less noisy than one 20% split; the chosen recipe is refitted on
train+validation (encoder statistics included) and measured ONCE on the test part. The artifact is
JSON the numpy runner reads back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from itertools import pairwise
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from hotcrm_ai_plugins.runners.tabular import Encoder, sigmoid
from hotcrm_ai_plugins.train.common import SEED, classifier_metrics, rounded, snake, stratified_split

# numeric field -> its encoders: ("standard", log1p), ("bins", edges), ("qbins", n), ("mids",), ("equals", v)
Recipe = Mapping[str, Sequence[tuple[Any, ...]]]


@attrs.frozen
class TabularTask:
    name: str
    runner: str
    load: Callable[[Path], Any]  # -> (DataFrame of snake_case features, y array)
    categorical: tuple[str, ...]
    numeric: dict[str, dict[str, Any]]  # field -> {"minimum", "maximum", "integer"}
    recipes: dict[str, Recipe]
    fixed_threshold: float | None = None  # None: F1-optimal on validation (out-of-fold predictions with CV)
    cv_folds: int | None = None  # None: select on the validation split; k: stratified k-fold CV on train+val
    solver: str = "lbfgs"  # newton-cholesky: exact and fast for a few hundred columns
    cs: tuple[float, ...] = (0.1, 0.3, 1.0)  # inverse L2 strengths tried


def build_spec(df: Any, task: TabularTask, recipe: Recipe) -> tuple[list[dict], list[dict]]:
    fields: list[dict] = []
    columns: list[dict] = []
    for name in task.categorical:
        counts = df[name].value_counts()
        choices = [(int(v) if isinstance(v, (int, np.integer)) else str(v)) for v in counts.index]
        fields.append({"name": name, "kind": "category", "choices": choices})
        for v, c in zip(choices, counts.values, strict=True):
            columns.append({"field": name, "kind": "onehot", "value": v, "freq": round(float(c) / len(df), 6)})
    for name, bounds in task.numeric.items():
        col = df[name].to_numpy(dtype=float)
        fields.append(
            {"name": name, "kind": "number", **bounds, "train_min": float(col.min()), "train_max": float(col.max())}
        )
        for enc in recipe.get(name, (("standard", False),)):
            if enc[0] == "standard":
                v = np.log1p(col) if enc[1] else col
                columns.append(
                    {
                        "field": name,
                        "kind": "standard",
                        "log1p": bool(enc[1]),
                        "mean": float(v.mean()),
                        "std": float(v.std() or 1.0),
                    }
                )
            elif enc[0] in ("bins", "qbins", "mids"):
                if enc[0] == "qbins":  # quantile edges of the fitting data
                    cuts = np.unique(np.quantile(col, np.linspace(0, 1, enc[1] + 1)[1:-1]).round(4))
                elif enc[0] == "mids":  # one bin per distinct value (a few dozen: the macro indices)
                    u = np.unique(col)
                    cuts = ((u[:-1] + u[1:]) / 2).round(4)
                else:
                    cuts = enc[1]
                edges = [None, *(float(c) for c in cuts), None]
                for lo, hi in pairwise(edges):
                    columns.append({"field": name, "kind": "bin", "lo": lo, "hi": hi})
            elif enc[0] == "equals":
                columns.append({"field": name, "kind": "equals", "value": enc[1]})
    return fields, columns


def _design(df: Any, encoder: Encoder) -> np.ndarray:
    values = {f["name"]: df[f["name"]].tolist() for f in encoder.fields}
    return encoder.encode_values(values, len(df))


def _fit(x: np.ndarray, y: np.ndarray, c: float, solver: str = "lbfgs") -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, max_iter=3000, tol=1e-6, solver=solver).fit(x, y)


def best_f1_threshold(y: np.ndarray, p: np.ndarray) -> float:
    grid = np.round(np.arange(0.05, 0.951, 0.01), 2)
    f1 = []
    for t in grid:
        pred = p >= t
        tp = np.sum(pred & (y == 1))
        f1.append(2 * tp / max(np.sum(pred) + np.sum(y == 1), 1))
    return float(grid[int(np.argmax(f1))])


def train_tabular(task: TabularTask, data_dir: Path, *, sample: int | None = None) -> dict[str, Any]:
    from sklearn.metrics import roc_auc_score

    df, y = task.load(data_dir)
    if sample is not None and sample < len(df):
        keep = np.sort(np.random.default_rng(SEED).choice(len(df), sample, replace=False))
        df, y = df.iloc[keep].reset_index(drop=True), y[keep]
    tr, va, te = stratified_split(y, (0.6, 0.2, 0.2), SEED)
    trva = np.sort(np.concatenate([tr, va]))
    if task.cv_folds:
        from sklearn.model_selection import StratifiedKFold

        folds = [
            (trva[a], trva[b])
            for a, b in StratifiedKFold(task.cv_folds, shuffle=True, random_state=SEED).split(trva, y[trva])
        ]
        key = "cv_roc_auc"
    else:
        folds, key = [(tr, va)], "val_roc_auc"
    selection = []
    for rname, recipe in task.recipes.items():
        scores: dict[float, list[float]] = {c: [] for c in task.cs}
        held: dict[float, list[tuple[np.ndarray, np.ndarray]]] = {c: [] for c in task.cs}
        for fit_idx, score_idx in folds:
            dfit, dscore = df.iloc[fit_idx], df.iloc[score_idx]
            enc = Encoder(*build_spec(dfit, task, recipe))
            xfit, xscore = _design(dfit, enc), _design(dscore, enc)
            for c in task.cs:
                p = _fit(xfit, y[fit_idx], c, task.solver).predict_proba(xscore)[:, 1]
                scores[c].append(float(roc_auc_score(y[score_idx], p)))
                held[c].append((score_idx, p))
        for c in task.cs:
            idx, p = (np.concatenate(parts) for parts in zip(*held[c], strict=True))
            selection.append({"recipe": rname, "C": c, key: round(float(np.mean(scores[c])), 5), "_y": y[idx], "_p": p})
    best = max(selection, key=lambda s: s[key])
    threshold = task.fixed_threshold if task.fixed_threshold is not None else best_f1_threshold(best["_y"], best["_p"])

    dfit = df.iloc[trva]
    fields, columns = build_spec(dfit, task, task.recipes[best["recipe"]])
    enc = Encoder(fields, columns)
    xfit = _design(dfit, enc)
    model = _fit(xfit, y[trva], best["C"], task.solver)
    coef, intercept = model.coef_[0], float(model.intercept_[0])
    p_test = sigmoid(intercept + _design(df.iloc[te], enc) @ coef)
    metrics = classifier_metrics(y[te], p_test, threshold)
    metrics.update(
        {
            "n_train": len(trva),
            "selected": {
                "recipe": best["recipe"],
                "C": best["C"],
                key: best[key],
                **({"cv_folds": task.cv_folds} if task.cv_folds else {}),
            },
        }
    )
    rate = float(np.mean(y[trva]))
    background_idx = np.random.default_rng(SEED).choice(trva, size=min(50, len(trva)), replace=False)
    background = [_plain(df.iloc[i].to_dict()) for i in background_idx]
    artifact = {
        "model": task.name,
        "runner": task.runner,
        "fields": fields,
        "columns": columns,
        "coef": rounded(coef, 10),
        "intercept": round(intercept, 10),
        "mean": rounded(xfit.mean(axis=0), 10),
        "threshold": threshold,
        "base_rate": rate,
        "labels": {"warm": round(rate, 6)} if task.name == "lead_scoring" else {"medium": round(rate, 6)},
    }
    return {
        "artifact": artifact,
        "metrics": metrics,
        "background": background,
        "selection": [{k: v for k, v in s.items() if not k.startswith("_")} for s in selection],
    }


def _plain(row: Mapping[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in row.items():
        if isinstance(v, (np.integer,)):
            v = int(v)
        elif isinstance(v, (np.floating,)):
            v = float(v)
        out[k] = v
    return out


# ---------------------------------------------------------------------------------------------- data


def load_bank(data_dir: Path) -> tuple[Any, np.ndarray]:
    import pandas as pd

    df = pd.read_csv(data_dir / "lead_scoring" / "bank-additional-full.csv", sep=";")
    y = (df.pop("y") == "yes").to_numpy(dtype=int)
    df = df.drop(columns=["duration"])  # known only after the call: leaks the answer
    df.columns = [snake(c) for c in df.columns]
    for c in df.columns:
        if df[c].dtype.kind not in "if":
            df[c] = df[c].astype(str)
    return df.reset_index(drop=True), y


def load_telco(data_dir: Path) -> tuple[Any, np.ndarray]:
    import pandas as pd

    df = pd.read_csv(data_dir / "churn" / "Telco-Customer-Churn.csv")
    y = (df.pop("Churn") == "Yes").to_numpy(dtype=int)
    # customerID is an identifier; gender is a protected attribute with no signal here: both left out.
    df = df.drop(columns=["customerID", "gender"])
    total = df["TotalCharges"].astype(str).str.strip().replace("", "0")  # blank where tenure is 0
    df["TotalCharges"] = pd.to_numeric(total, errors="coerce").fillna(0.0)
    df.columns = [snake(c) for c in df.columns]
    for c in df.columns:
        if c != "senior_citizen" and df[c].dtype.kind not in "if":
            df[c] = df[c].astype(str)
    return df.reset_index(drop=True), y


LEAD = TabularTask(
    name="lead_scoring",
    runner="lead_scoring",
    load=load_bank,
    categorical=(
        "job",
        "marital",
        "education",
        "default",
        "housing",
        "loan",
        "contact",
        "month",
        "day_of_week",
        "poutcome",
    ),
    numeric={
        "age": {"minimum": 0, "maximum": 120, "integer": True},
        "campaign": {"minimum": 1, "integer": True},
        "pdays": {"minimum": 0, "integer": True},
        "previous": {"minimum": 0, "integer": True},
        "emp_var_rate": {},
        "cons_price_idx": {},
        "cons_conf_idx": {},
        "euribor3m": {"minimum": 0},
        "nr_employed": {"minimum": 0},
    },
    recipes={
        "shaped_macro": {
            "age": (("bins", (25, 30, 40, 50, 60)), ("standard", False)),
            "campaign": (("standard", True),),
            "pdays": (("equals", 999), ("bins", (4, 7, 999))),
            "previous": (("bins", (1, 2)),),
            "euribor3m": (("standard", False), ("bins", (1.0, 1.5, 4.0, 4.9))),
            "nr_employed": (("standard", False), ("bins", (5050, 5100, 5200))),
        },
        "shaped_period": {
            "age": (("bins", (25, 30, 40, 50, 60)), ("standard", False)),
            "campaign": (("standard", True), ("bins", (2, 3, 4, 6))),
            "pdays": (("equals", 999), ("bins", (4, 7, 999))),
            "previous": (("bins", (1, 2)),),
            "cons_price_idx": (("standard", False), ("mids",)),
            "euribor3m": (("standard", False), ("qbins", 20)),
            "nr_employed": (("standard", False), ("bins", (5050, 5100, 5200))),
        },
        # euribor3m changes almost daily, so one indicator per rate seen (grouped under euribor3m) is a
        # date effect; 20 quantile bands under it let L2 shrink sparse days towards their neighbours.
        "daily_rate": {
            "age": (("bins", (22, 25, 28, 30, 33, 36, 40, 45, 50, 55, 60, 65, 70)), ("standard", False)),
            "campaign": (("standard", True), ("bins", (2, 3, 4, 5, 6, 8, 11))),
            "pdays": (("equals", 999), ("bins", (4, 7, 999))),
            "previous": (("bins", (1, 2)),),
            "cons_price_idx": (("standard", False), ("mids",)),
            "euribor3m": (("standard", False), ("qbins", 20), ("mids",)),
            "nr_employed": (("standard", False), ("bins", (5050, 5100, 5200))),
        },
    },
    cv_folds=5,
    solver="newton-cholesky",
)

CHURN = TabularTask(
    name="churn",
    runner="churn",
    load=load_telco,
    categorical=(
        "senior_citizen",
        "partner",
        "dependents",
        "phone_service",
        "multiple_lines",
        "internet_service",
        "online_security",
        "online_backup",
        "device_protection",
        "tech_support",
        "streaming_tv",
        "streaming_movies",
        "contract",
        "paperless_billing",
        "payment_method",
    ),
    numeric={
        "tenure": {"minimum": 0, "integer": True},
        "monthly_charges": {"minimum": 0},
        "total_charges": {"minimum": 0},
    },
    recipes={
        "linear": {},
        "log_tenure": {"tenure": (("standard", False), ("standard", True)), "total_charges": (("standard", True),)},
        "binned_tenure": {
            "tenure": (("standard", True), ("bins", (2, 6, 12, 24, 48))),
            "total_charges": (("standard", True),),
        },
    },
    fixed_threshold=0.5,
)
