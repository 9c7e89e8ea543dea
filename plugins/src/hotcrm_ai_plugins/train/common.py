"""Helpers every trainer shares: names, splits, classifier metrics, JSON output."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np

SEED = 20240601


def snake(name: str) -> str:
    """Data set column -> feature name: ``emp.var.rate`` -> ``emp_var_rate``, ``StreamingTV`` -> ``streaming_tv``."""
    name = name.replace(".", "_").replace("-", "_").replace(" ", "_")
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    return name.lower()


def stratified_split(y: np.ndarray, fractions: tuple[float, ...], seed: int) -> list[np.ndarray]:
    """Index arrays, one per fraction, keeping the class balance in each part."""
    rng = np.random.default_rng(seed)
    parts: list[list[np.ndarray]] = [[] for _ in fractions]
    for cls in np.unique(y):
        idx = np.flatnonzero(y == cls)
        rng.shuffle(idx)
        cuts = np.round(np.cumsum(fractions)[:-1] * len(idx)).astype(int)
        for k, chunk in enumerate(np.split(idx, cuts)):
            parts[k].append(chunk)
    return [np.sort(np.concatenate(p)) for p in parts]


def classifier_metrics(y: np.ndarray, p: np.ndarray, threshold: float) -> dict[str, Any]:
    from sklearn.metrics import (
        accuracy_score,
        brier_score_loss,
        f1_score,
        log_loss,
        precision_score,
        recall_score,
        roc_auc_score,
    )

    pred = (p >= threshold).astype(int)
    return {
        "accuracy": float(accuracy_score(y, pred)),
        "precision": float(precision_score(y, pred, zero_division=0)),
        "recall": float(recall_score(y, pred, zero_division=0)),
        "f1": float(f1_score(y, pred, zero_division=0)),
        "roc_auc": float(roc_auc_score(y, p)),
        "brier": float(brier_score_loss(y, p)),
        "log_loss": float(log_loss(y, p)),
        "base_rate": float(np.mean(y)),
        "majority_accuracy": float(max(np.mean(y), 1 - np.mean(y))),
        "threshold": float(threshold),
        "n_test": len(y),
    }


def write_json(path: Path, data: Any, *, compact: bool = False) -> None:
    text = json.dumps(
        data,
        ensure_ascii=False,
        separators=(",", ":") if compact else None,
        indent=None if compact else 1,
        sort_keys=False,
    )
    path.write_text(text + "\n", encoding="utf-8")


def save_npz(path: Path, **arrays: Any) -> None:
    """Like ``np.savez_compressed`` but byte-reproducible: fixed zip timestamps, sorted names, no pickle."""
    import io
    import zipfile

    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(arrays):
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.asanyarray(arrays[name]), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, buf.getvalue())


def rounded(values: Any, digits: int = 8) -> list[float]:
    return [round(float(v), digits) for v in np.asarray(values).ravel()]
