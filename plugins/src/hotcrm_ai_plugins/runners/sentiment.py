"""Sentiment runner: logistic regression on word + character TF-IDF and VADER scores, in numpy.

Output ``{sentiment, score}`` with score = P(positive). ``neutral`` when the score falls inside the
neutral band (artifact ``neutral``, 0.45-0.55): the training data has only positive and negative
sentences, so neutral means "the model cannot tell", not a third trained class.
Confidence = 100 * |score - 0.5| / 0.5. Text longer than 5,000 characters is truncated first.
"""

from __future__ import annotations

import gzip
import json
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hotcrm_ai.errors import FieldError
from hotcrm_ai.scoring.output import ColumnOutput
from hotcrm_ai.types import PredictionOutput
from hotcrm_ai_plugins.runners.checks import check_rows, field_name, raise_if, show
from hotcrm_ai_plugins.runners.options import SentimentOptions, runner_options
from hotcrm_ai_plugins.runners.tabular import sigmoid
from hotcrm_ai_plugins.runners.text import MAX_CHARS, chars, normalise, words

VADER_KEYS = ("compound", "pos", "neg", "neu")


def vader_analyzer() -> Any:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer  # lazy: loads its lexicon

    return SentimentIntensityAnalyzer()


def tfidf_score(tokens: list[str], vocab: Mapping[str, list[float]]) -> float:
    """coef . l2-normalised (1 + log tf) * idf over the vocabulary terms present (as scikit-learn does)."""
    counts = Counter(t for t in tokens if t in vocab)
    if not counts:
        return 0.0
    weights = {t: (1.0 + math.log(c)) * vocab[t][0] for t, c in counts.items()}
    norm = math.sqrt(sum(w * w for w in weights.values()))
    return sum(w * vocab[t][1] for t, w in weights.items()) / norm


class SentimentRunner:
    Options = SentimentOptions

    def __init__(self, artifact_dir: Path, parameters: Mapping[str, Any] | SentimentOptions) -> None:
        self.path = Path(artifact_dir) / runner_options(SentimentOptions, parameters).artifact
        with gzip.open(self.path, "rt", encoding="utf-8") as fh:
            art = json.load(fh)
        self.word_vocab: dict[str, list[float]] = art["word"]
        self.char_vocab: dict[str, list[float]] = art["char"]
        self.vader_coef = np.asarray(art["vader_coef"], dtype=np.float64)
        self.vader_scale = float(art["vader_scale"])
        self.intercept = float(art["intercept"])
        self.neutral = tuple(art["neutral"])
        self._vader: Any = None

    def _texts(self, rows: Sequence[Mapping[str, Any]]) -> list[str]:
        check_rows(rows)
        batch, errors, texts = len(rows) > 1, [], []
        for i, row in enumerate(rows):
            value = row.get("text")
            where = field_name("text", i, batch)
            if not isinstance(value, str):
                errors.append(FieldError(where, "a string", show(value)))
            elif not value.strip():
                errors.append(FieldError(where, "non-empty text", "blank text"))
            texts.append(value if isinstance(value, str) else "")
        raise_if(errors)
        return texts

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        if self._vader is None:
            self._vader = vader_analyzer()
        z = np.empty(len(texts))
        for i, raw in enumerate(texts):
            text = normalise(raw)
            v = self._vader.polarity_scores(raw[:MAX_CHARS])
            vader = np.array([v[k] for k in VADER_KEYS]) * self.vader_scale
            z[i] = (
                tfidf_score(words(text), self.word_vocab)
                + tfidf_score(chars(text), self.char_vocab)
                + float(vader @ self.vader_coef)
            )
        return sigmoid(self.intercept + z)

    def predict_batch(self, rows: Sequence[Mapping[str, Any]]) -> list[PredictionOutput]:
        if len(rows) == 0:
            return []
        out = self.predict_columns({"text": self._texts(rows)}, len(rows))
        scores: Any = out.prediction["score"]
        confidence: Any = out.confidence
        answers = zip(out.prediction["sentiment"], scores.tolist(), confidence.tolist(), strict=True)
        return [
            PredictionOutput(prediction={"sentiment": label, "score": sc}, confidence=c, metadata=out.row_metadata(i))
            for i, (label, sc, c) in enumerate(answers)
        ]

    def predict_columns(self, columns: Mapping[str, Any], n: int) -> ColumnOutput:
        """Answers for a column of texts: labels, scores and confidences computed array-wise."""
        texts = columns.get("text")
        texts = self._texts([{"text": t} for t in texts]) if texts is not None else self._texts([{}] * n)
        p = self.scores(texts)
        lo, hi = self.neutral
        label = np.where(p >= hi, "positive", np.where(p <= lo, "negative", "neutral")).tolist()  # band is open
        conf = np.round(np.minimum(100.0, 200.0 * np.abs(p - 0.5)), 2)
        notes = {i: {"truncated": True} for i, t in enumerate(texts) if len(t) > MAX_CHARS}
        score: Any = np.round(p, 6)
        return ColumnOutput(
            prediction={"sentiment": label, "score": score},
            confidence=conf,  # type: ignore[arg-type]
            metadata={"neutral_band": list(self.neutral)},
            notes=notes,
        )

    def describe(self) -> dict[str, Any]:
        return {
            "artifact": self.path.name,
            "word_terms": len(self.word_vocab),
            "char_terms": len(self.char_vocab),
            "neutral_band": list(self.neutral),
        }
