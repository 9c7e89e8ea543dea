"""Train the recommender: EASE on the customer x item matrix of the most bought items.

Time-based splits (a customer's history before the cut predicts the new items bought after it):
validation = history before 2011-07-01, targets July-August; test = history before 2011-09-01, targets
September-October. The catalogue size, lambda and neighbour count are chosen on validation hit rate;
test is measured once, through the serving code, next to a popularity baseline. The shipped model is
refitted with the chosen settings on every invoice up to 2011-10-31.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from hotcrm_ai_plugins.train.common import SEED, save_npz

VAL = ("2011-07-01", "2011-09-01")
TEST = ("2011-09-01", "2011-11-01")


def load_lines(data_dir: Path) -> Any:
    import pandas as pd

    df = pd.read_csv(
        data_dir / "recommendation" / "online_retail_until_2011-10.csv.gz",
        dtype={"InvoiceNo": str, "StockCode": str, "Description": str, "CustomerID": str},
    )
    df = df[~df["InvoiceNo"].str.startswith("C") & df["CustomerID"].notna() & (df["Quantity"] > 0)]
    df = df[df["StockCode"].str.match(r"^\d{5}")]  # products only: no postage, fees, manual lines
    df = df.assign(StockCode=df["StockCode"].str.upper(), date=pd.to_datetime(df["InvoiceDate"]))
    return df[["CustomerID", "StockCode", "Description", "date"]]


def fit_ease(lines: Any, n_items: int, lam: float, k: int) -> dict[str, Any]:
    counts = lines.groupby("StockCode")["CustomerID"].nunique().sort_values(ascending=False, kind="stable")
    codes = counts.index[:n_items].to_numpy(str)
    pos = {c: i for i, c in enumerate(codes)}
    sub = lines[lines["StockCode"].isin(pos)]
    users = {u: i for i, u in enumerate(sorted(sub["CustomerID"].unique()))}
    x = np.zeros((len(users), len(codes)), dtype=np.float32)
    x[sub["CustomerID"].map(users).to_numpy(), sub["StockCode"].map(pos).to_numpy()] = 1.0
    g = (x.T @ x).astype(np.float64)
    g[np.diag_indices_from(g)] += lam
    p = np.linalg.inv(g)
    b = -p / np.diag(p)
    np.fill_diagonal(b, 0.0)
    kk = min(k, len(codes) - 1)
    nb = np.argpartition(-b, kk - 1, axis=1)[:, :kk]
    w = np.take_along_axis(b, nb, axis=1)
    desc = (
        lines.dropna(subset=["Description"])
        .groupby("StockCode")["Description"]
        .agg(lambda s: s.value_counts().index[0])
    )
    return {
        "codes": codes,
        "descriptions": np.array([" ".join(str(desc.get(c, "")).split()) for c in codes]),
        "neighbours": nb.astype(np.int16 if len(codes) < 32767 else np.int32),
        "weights": w.astype(np.float16),
        "popularity": counts.iloc[:n_items].to_numpy(np.float32),
    }


def _cases(lines: Any, window: tuple[str, str]) -> list[tuple[list[str], set[str]]]:
    hist = lines[lines["date"] < window[0]]
    after = lines[(lines["date"] >= window[0]) & (lines["date"] < window[1])]
    before = hist.groupby("CustomerID")["StockCode"].agg(lambda s: sorted(set(s)))
    later = after.groupby("CustomerID")["StockCode"].agg(set)
    cases = []
    for user, items in later.items():
        if user in before.index:
            new = items - set(before[user])
            if new:
                cases.append((before[user], new))
    return cases


def _evaluate(runner: Any, cases: list[tuple[list[str], set[str]]], popular: list[str]) -> dict[str, Any]:
    # a customer with no catalogue item cannot be served by the model (ValidationError): the caller would
    # fall back to popularity, so the evaluation does the same for those customers
    servable = [any(c in runner.index for c in h) for h, _ in cases]
    rows = [{"products": h, "k": 10} for (h, _), ok in zip(cases, servable, strict=True) if ok]
    out: dict[str, list[float]] = {
        "precision_at_10": [],
        "recall_at_10": [],
        "hit_rate_at_10": [],
        "pop_precision_at_10": [],
        "pop_recall_at_10": [],
        "pop_hit_rate_at_10": [],
    }
    tops: list[Any] = []
    for start in range(0, len(rows), 500):
        preds = runner.predict_batch(rows[start : start + 500])
        tops.extend(p.prediction["items"] for p in preds)
    served = iter(tops)
    for (hist, target), ok in zip(cases, servable, strict=True):
        seen = set(hist)
        pop = [c for c in popular if c not in seen][:10]
        model = [i["id"] for i in next(served)] if ok else pop
        for prefix, recs in (("", model), ("pop_", pop)):
            hits = len(set(recs) & target)
            out[prefix + "precision_at_10"].append(hits / 10)
            out[prefix + "recall_at_10"].append(hits / len(target))
            out[prefix + "hit_rate_at_10"].append(float(hits > 0))
    res = {k: float(np.mean(v)) for k, v in out.items()}
    res["hit_rate_ratio_vs_popularity"] = res["hit_rate_at_10"] / max(res["pop_hit_rate_at_10"], 1e-9)
    res["customers"] = len(cases)
    res["customers_served_by_popularity_fallback"] = len(cases) - sum(servable)
    return res


def _runner(model: dict[str, Any], out: Path, reference: float = 1.0) -> Any:
    from hotcrm_ai_plugins.runners.recommend import RecommendationRunner

    save_npz(out / "recommendation.npz", reference=np.float64(reference), **model)
    return RecommendationRunner(out, {"artifact": "recommendation.npz"})


def _reference(runner: Any, cases: list[tuple[list[str], set[str]]]) -> float:
    rows = [{"products": h} for h, _ in cases[:2000] if any(c in runner.index for c in h)]
    best = [p.prediction["items"][0]["score"] for p in runner.predict_batch(rows)]
    return float(np.quantile(best, 0.9))


def train_recommendation(data_dir: Path, out: Path, *, sample: int | None = None) -> dict[str, Any]:
    lines = load_lines(data_dir)
    if sample is not None:
        customers = np.sort(lines["CustomerID"].unique())
        keep = set(np.random.default_rng(SEED).choice(customers, min(sample, len(customers)), replace=False))
        lines = lines[lines["CustomerID"].isin(keep)]
    grid = [(2000, 100.0), (2000, 300.0), (3000, 300.0), (3000, 1000.0)] if sample is None else [(300, 30.0)]
    neighbours = 100
    val_hist = lines[lines["date"] < VAL[0]]
    val_cases = _cases(lines, VAL)
    selection: list[dict[str, Any]] = []
    for n_items, lam in grid:
        runner = _runner(fit_ease(val_hist, n_items, lam, neighbours), out)
        popular = list(runner.codes)
        res = _evaluate(runner, val_cases, popular)
        selection.append(
            {
                "items": n_items,
                "lambda": lam,
                "val_hit_rate_at_10": round(res["hit_rate_at_10"], 5),
                "val_ratio": round(res["hit_rate_ratio_vs_popularity"], 4),
            }
        )
    best = max(selection, key=lambda s: s["val_hit_rate_at_10"])

    test_hist = lines[lines["date"] < TEST[0]]
    test_cases = _cases(lines, TEST)
    runner = _runner(fit_ease(test_hist, best["items"], best["lambda"], neighbours), out)
    metrics = _evaluate(runner, test_cases, list(runner.codes))
    metrics.update(
        {
            "precision": metrics["precision_at_10"],
            "recall": metrics["recall_at_10"],
            "selected": best,
            "split": {"history_before": TEST[0], "targets": list(TEST)},
        }
    )

    final = fit_ease(lines, best["items"], best["lambda"], neighbours)
    runner = _runner(final, out)
    reference = _reference(runner, _cases(lines, TEST))
    _runner(final, out, reference)
    metrics["confidence_reference"] = reference
    rng = np.random.default_rng(SEED)
    picks = rng.choice(len(test_cases), 5, replace=False)
    background = [{"products": list(test_cases[i][0][:20]), "k": 10} for i in picks]
    features = [
        {
            "name": "products",
            "dtype": "array",
            "items": "string",
            "description": "StockCodes the customer already bought (unknown codes are ignored)",
        },
        {
            "name": "k",
            "dtype": "integer",
            "required": False,
            "default": 10,
            "minimum": 1,
            "maximum": 100,
            "description": "how many items to return",
        },
    ]
    return {
        "metrics": metrics,
        "selection": selection,
        "artifact": "recommendation.npz",
        "features": features,
        "background": background,
    }
