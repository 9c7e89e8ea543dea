"""Word-level Shapley attributions for text inputs, by masking words out (``text`` explainer).

A text field (a string feature without ``choices`` whose value has at least two words) is split into
words; each word is a player, and so is every other input field. A coalition keeps its words and
drops the rest, each run of dropped words collapsed into one ``MASK`` (so the empty coalition is
``"..."``, which any text model can read); fields outside the coalition take the background's values.

Up to ``max_exact`` players the values are exact Shapley values over all coalitions. Beyond, they are
Owen values over the text's hierarchy (halves, quarters, ... of the word sequence: contiguous
phrases), the method of shap's Partition explainer: a node's children share its gain, each credited
with its mean marginal gain with and without its sibling. Owen values add up exactly like Shapley
values and cost about ``n^2`` evaluations instead of ``2^n``; when even that exceeds the budget,
neighbouring words are grouped into phrases until it fits (the contribution is then the phrase's).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import numpy as np

from hotcrm_ai.errors import ExplanationError
from hotcrm_ai.explain.exact import shapley_from_values
from hotcrm_ai.explain.result import TOP_N, build_explanation, label_of
from hotcrm_ai.explain.text import reason_text
from hotcrm_ai.interfaces import ExplanationTask
from hotcrm_ai.types import Explanation

MASK = "..."
_WORD = re.compile(r"\S+")


def text_fields(task: ExplanationTask) -> list[str]:
    """Fields explained word by word: free strings (no ``choices``) holding two or more words."""
    out = []
    for name, value in task.features.items():
        spec = task.model.feature(name)
        free = spec is None or (spec.dtype == "string" and not spec.choices)
        if free and isinstance(value, str) and len(_WORD.findall(value)) >= 2:
            out.append(name)
    return out


class _Game:
    """Players (word spans of text fields, then whole other fields) and the rows of a coalition."""

    def __init__(self, task: ExplanationTask, fields: Sequence[str], max_players: int) -> None:
        self.task, self.fields = task, list(fields)
        self.others = [n for n in task.features if n not in self.fields]
        self.words = {f: [(m.start(), m.end()) for m in _WORD.finditer(str(task.features[f]))] for f in self.fields}
        # players: (field, first word, last word + 1) for text; (field, -1, -1) for other fields
        spans: list[tuple[str, int, int]] = []
        budget_words = max(1, max_players - len(self.others))
        total = sum(len(w) for w in self.words.values())
        group = max(1, -(-total // budget_words))
        for f in self.fields:
            n = len(self.words[f])
            spans.extend((f, i, min(n, i + group)) for i in range(0, n, group))
        spans.extend((f, -1, -1) for f in self.others)
        self.players = spans
        self.group = group
        self.background = list(task.background) or [dict(task.features)]
        if not self.others:
            self.background = self.background[:1]  # only words vary: the background does not matter

    def text_of(self, field: str, keep: set[int]) -> str:
        raw = str(self.task.features[field])
        out, masked = [], False
        for i, (a, b) in enumerate(self.words[field]):
            if i in keep:
                out.append(raw[a:b])
                masked = False
            elif not masked:
                out.append(MASK)
                masked = True
        return " ".join(out)

    def rows(self, mask: int) -> list[dict[str, Any]]:
        keep: dict[str, set[int]] = {f: set() for f in self.fields}
        present: set[str] = set()
        for p, (f, lo, hi) in enumerate(self.players):
            if mask >> p & 1:
                if lo < 0:
                    present.add(f)
                else:
                    keep[f].update(range(lo, hi))
        texts = {f: self.text_of(f, keep[f]) for f in self.fields}
        x = self.task.features
        return [
            {**{n: (x[n] if n in present else b.get(n, x[n])) for n in self.others}, **texts} for b in self.background
        ]

    def label(self, p: int) -> tuple[str, Any, str]:
        f, lo, hi = self.players[p]
        if lo < 0:
            return f, self.task.features[f], label_of(self.task.model, f)
        raw = str(self.task.features[f])
        phrase = raw[self.words[f][lo][0] : self.words[f][hi - 1][1]]
        what = "word" if hi - lo == 1 else "words"
        where = f"{lo + 1}" if hi - lo == 1 else f"{lo + 1}-{hi}"
        key = f"{f}[{lo}]" if hi - lo == 1 else f"{f}[{lo}:{hi}]"
        return key, phrase, f"{label_of(self.task.model, f)} {what} {where}"


def _owen_masks(lo: int, hi: int, ctx: int, need: set[int]) -> None:
    node = ((1 << hi) - 1) ^ ((1 << lo) - 1)
    need.add(ctx)
    need.add(ctx | node)
    if hi - lo == 1:
        return
    mid = (lo + hi) // 2
    left, right = ((1 << mid) - 1) ^ ((1 << lo) - 1), ((1 << hi) - 1) ^ ((1 << mid) - 1)
    _owen_masks(lo, mid, ctx, need)
    _owen_masks(lo, mid, ctx | right, need)
    _owen_masks(mid, hi, ctx, need)
    _owen_masks(mid, hi, ctx | left, need)


def _owen_values(lo: int, hi: int, ctx: int, weight: float, v: Mapping[int, float], phi: np.ndarray) -> None:
    if hi - lo == 1:
        phi[lo] += weight * (v[ctx | (1 << lo)] - v[ctx])
        return
    mid = (lo + hi) // 2
    left, right = ((1 << mid) - 1) ^ ((1 << lo) - 1), ((1 << hi) - 1) ^ ((1 << mid) - 1)
    half = weight / 2
    _owen_values(lo, mid, ctx, half, v, phi)
    _owen_values(lo, mid, ctx | right, half, v, phi)
    _owen_values(mid, hi, ctx, half, v, phi)
    _owen_values(mid, hi, ctx | left, half, v, phi)


def owen_cost(n: int) -> int:
    need: set[int] = set()
    _owen_masks(0, n, 0, need)
    return len(need)


class WordExplainer:
    name = "text"

    def __init__(self, max_exact: int = 10) -> None:
        self.max_exact = max_exact

    def supports(self, task: ExplanationTask) -> bool:
        return bool(text_fields(task)) and len(task.background) >= 1 and task.budget >= 16

    def _fit_players(self, task: ExplanationTask, fields: Sequence[str]) -> _Game:
        """The finest grouping of words whose coalitions fit the budget."""
        words = sum(len(_WORD.findall(str(task.features[f]))) for f in fields)
        players = words + len(task.features) - len(fields)
        while True:
            game = _Game(task, fields, players)
            n, b = len(game.players), len(game.background)
            cost = (2**n if n <= self.max_exact else owen_cost(n)) * b + 1
            if cost <= task.budget or n <= 2:
                if cost > task.budget:
                    raise ExplanationError(
                        f"text: model {task.model.id}: needs {cost} model evaluations, budget is {task.budget}"
                    )
                return game
            players = max(2, players // 2)

    def explain(self, task: ExplanationTask) -> Explanation:
        fields = text_fields(task)
        if not fields:
            raise ExplanationError(f"text: model {task.model.id}: no text field with two or more words to explain")
        game = self._fit_players(task, fields)
        n, b = len(game.players), len(game.background)
        exact = n <= self.max_exact
        if exact:
            masks = list(range(2**n))
        else:
            need: set[int] = set()
            _owen_masks(0, n, 0, need)
            masks = sorted(need)
        rows = [dict(task.features)] + [r for mk in masks for r in game.rows(mk)]
        scores = np.asarray(task.score(rows), dtype=float)
        if scores.shape != (len(rows),):
            raise ExplanationError(f"text: expected {len(rows)} scores, got shape {scores.shape}")
        output = float(scores[0])
        per = scores[1:].reshape(len(masks), b).mean(axis=1)
        v = dict(zip(masks, per.tolist(), strict=True))
        full = (1 << n) - 1
        v[full] = output  # the full coalition is the input itself (same row when nothing is masked)
        if exact:
            phi = shapley_from_values(np.array([v[k] for k in range(2**n)]), n)
        else:
            phi = np.zeros(n)
            _owen_values(0, n, 0, 1.0, v, phi)
        base = float(v[0])
        labels = [game.label(p) for p in range(n)]
        names = [name for name, _, _ in labels]
        values = {name: value for name, value, _ in labels}
        exp = build_explanation(
            task.model,
            values,
            names,
            phi,
            base,
            output,
            output_kind=task.output_kind,
            method=self.name,
            evaluations=len(rows),
            exact=True,
            metadata={
                "values": "shapley" if exact else "owen",
                "players": n,
                "words_per_player": game.group,
                "mask": MASK,
                "text_fields": fields,
            },
        )
        relabel = {name: label for name, _, label in labels}
        contributions = tuple(attrs.evolve(c, label=relabel[c.feature]) for c in exp.contributions)
        top = tuple(sorted(contributions, key=lambda c: -c.importance)[:TOP_N])
        return attrs.evolve(exp, contributions=contributions, top_features=top, text=reason_text(top))
