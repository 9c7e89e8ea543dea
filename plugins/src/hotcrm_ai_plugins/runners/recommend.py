"""Recommendation runner: EASE (Steck 2019) item-item weights over the catalogue's most bought items,
kept as the top neighbours of each item, scored in numpy.

score(j) = sum of B[i, j] over the items i already bought (+ a tiny popularity term that only breaks
ties), items already bought are never returned. StockCodes outside the catalogue are ignored and named
in ``metadata['unknown']``; when none of the products is known, ``ValidationError``.
Confidence = 100 * min(1, best score / ``reference``), the reference being the 90th percentile of best
scores over validation customers: how strong the evidence is next to a typical customer's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hotcrm_ai.errors import FieldError
from hotcrm_ai.types import PredictionOutput
from hotcrm_ai_plugins.runners.checks import as_number, check_rows, field_name, raise_if, show
from hotcrm_ai_plugins.runners.options import RecommendationOptions, runner_options

if TYPE_CHECKING:
    from hotcrm_ai.interfaces import Attribution

MAX_K = 100
MAX_PRODUCTS = 10_000


class RecommendationRunner:
    Options = RecommendationOptions

    def __init__(self, artifact_dir: Path, parameters: Mapping[str, Any] | RecommendationOptions) -> None:
        self.path = Path(artifact_dir) / runner_options(RecommendationOptions, parameters).artifact
        with np.load(self.path, allow_pickle=False) as art:
            self.codes = art["codes"].astype(str)
            self.descriptions = art["descriptions"].astype(str)
            self.neighbours = art["neighbours"].astype(np.int64)
            self.weights = art["weights"].astype(np.float64)
            self.popularity = art["popularity"].astype(np.float64)
            self.reference = float(art["reference"])
        self.index = {c: i for i, c in enumerate(self.codes)}
        self.upper_index = {c.upper(): i for i, c in enumerate(self.codes)}
        self.tiebreak = 1e-6 * self.popularity / max(float(self.popularity.max()), 1.0)

    def _baskets(self, rows: Sequence[Mapping[str, Any]]) -> list[tuple[list[int], list[str], int]]:
        check_rows(rows)
        batch = len(rows) > 1
        errors: list[FieldError] = []
        out: list[tuple[list[int], list[str], int]] = []
        for i, row in enumerate(rows):
            where = lambda f, i=i: field_name(f, i, batch)  # noqa: E731
            products = row.get("products")
            k_raw = row.get("k", 10)
            k = int(as_number(k_raw, where("k"), errors, minimum=1, maximum=MAX_K, integer=True)) or 10
            known: list[int] = []
            unknown: list[str] = []
            if not isinstance(products, Sequence) or isinstance(products, (str, bytes)):
                errors.append(FieldError(where("products"), "a list of StockCodes", show(products)))
            elif len(products) > MAX_PRODUCTS:
                errors.append(FieldError(where("products"), f"at most {MAX_PRODUCTS} StockCodes", str(len(products))))
            else:
                for j, code in enumerate(products):
                    if isinstance(code, int) and not isinstance(code, bool):
                        code = str(code)
                    if not isinstance(code, str):
                        errors.append(FieldError(f"{where('products')}[{j}]", "a StockCode string", show(code)))
                        continue
                    code = code.strip()
                    idx = self.index.get(code, self.upper_index.get(code.upper()))
                    if idx is None:
                        unknown.append(code[:40])
                    elif idx not in known:
                        known.append(idx)
                if not known and not any(e.field.startswith(where("products")) for e in errors):
                    errors.append(
                        FieldError(
                            where("products"),
                            "at least one StockCode the model knows "
                            f"(its catalogue holds the {len(self.codes)} most bought items)",
                            f"{len(products)} unknown" if products else "an empty list",
                        )
                    )
            out.append((known, unknown, k))
        raise_if(errors)
        return out

    def scores(self, baskets: Sequence[Sequence[int]]) -> np.ndarray:
        """One (rows x catalogue) score matrix for the whole batch: a single scatter-add."""
        n = len(self.codes)
        s = np.tile(self.tiebreak, (len(baskets), 1))
        rows = np.concatenate([np.full(len(b), r) for r, b in enumerate(baskets)]).astype(np.int64)
        items = np.concatenate([np.asarray(b, dtype=np.int64) for b in baskets])
        flat = (rows[:, None] * n + self.neighbours[items]).ravel()
        np.add.at(s.reshape(-1), flat, self.weights[items].ravel())
        s[rows, items] = -np.inf
        return s

    def predict_batch(self, rows: Sequence[Mapping[str, Any]]) -> list[PredictionOutput]:
        if len(rows) == 0:
            return []
        parsed = self._baskets(rows)
        s = self.scores([p[0] for p in parsed])
        out = []
        for r, (_, unknown, k) in enumerate(parsed):
            kk = min(k, int(np.isfinite(s[r]).sum()))
            top = np.argpartition(-s[r], kk - 1)[:kk]
            top = top[np.argsort(-s[r][top], kind="stable")]
            items = [
                {"id": str(self.codes[j]), "description": str(self.descriptions[j]), "score": round(float(s[r, j]), 6)}
                for j in top
            ]
            best = max(float(s[r, top[0]]), 0.0) if kk else 0.0
            meta: dict[str, Any] = {"unknown": unknown} if unknown else {}
            out.append(
                PredictionOutput(
                    prediction={"items": items},
                    confidence=round(min(100.0, 100.0 * best / self.reference), 2),
                    metadata=meta,
                )
            )
        return out

    def attribution(self, row: Mapping[str, Any]) -> Attribution:
        """Each basket product's exact share of each recommended item's score (the score is a sum over
        the basket of item-item weights, so the shares are its Shapley values). The explained number is
        the top item's served score; the popularity tie-break (and the rounding to 6 digits) is the base.
        Every recommended item's shares are in ``metadata['items']``."""
        from hotcrm_ai.interfaces import Attribution

        known, _, _ = self._baskets([row])[0]
        served = self.predict_batch([row])[0].prediction["items"]
        items = []
        for entry in served:
            j = self.index[entry["id"]]
            shares = {}
            for i in known:
                hit = np.flatnonzero(self.neighbours[i] == j)
                shares[str(self.codes[i])] = float(self.weights[i, hit].sum())
            items.append(
                {
                    "id": entry["id"],
                    "score": entry["score"],
                    "base": entry["score"] - float(sum(shares.values())),
                    "contributions": shares,
                }
            )
        top = items[0]
        names = {str(self.codes[i]): str(self.codes[i]) for i in known}
        return Attribution(
            output=float(top["score"]),
            base=float(top["base"]),
            contributions={names[c]: v for c, v in top["contributions"].items()},
            values={names[c]: c for c in top["contributions"]},
            labels={names[str(self.codes[i])]: str(self.descriptions[i]).title() for i in known},
            output_kind="score",
            explained=f"the score of the top recommendation {top['id']}",
            metadata={"items": items},
        )

    def describe(self) -> dict[str, Any]:
        return {"artifact": self.path.name, "items": len(self.codes), "neighbours": int(self.neighbours.shape[1])}
