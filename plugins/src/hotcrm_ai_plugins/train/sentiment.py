"""Train the sentiment model: word + char TF-IDF (our analyzers) and VADER scores -> logistic regression.

Split 60/20/20 stratified by source and label; C and the VADER block weight are chosen on validation
accuracy, the winner is refitted on train+validation and measured once on test. The vocabulary with
idf and coefficient per term goes to ``sentiment.json.gz``.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import numpy as np

from hotcrm_ai_plugins.runners.sentiment import VADER_KEYS, vader_analyzer
from hotcrm_ai_plugins.runners.text import chars, normalise, words
from hotcrm_ai_plugins.train.common import SEED, classifier_metrics, stratified_split

SOURCES = ("amazon_cells_labelled.txt", "imdb_labelled.txt", "yelp_labelled.txt")
NEUTRAL = (0.45, 0.55)  # 'cannot tell' band; narrow, since the data has no neutral class


def load_sentences(data_dir: Path) -> tuple[list[str], np.ndarray, np.ndarray]:
    texts, labels, source = [], [], []
    for k, name in enumerate(SOURCES):
        for line in (data_dir / "sentiment" / name).read_text(encoding="utf-8").split("\n"):
            if not line.strip():
                continue
            text, label = line.rsplit("\t", 1)
            texts.append(text.strip())
            labels.append(int(label))
            source.append(k)
    return texts, np.array(labels), np.array(source)


def _word_analyzer(doc: str) -> list[str]:
    return words(normalise(doc))


def _char_analyzer(doc: str) -> list[str]:
    return chars(normalise(doc))


def _features(texts: list[str], vader: Any) -> tuple[Any, Any, np.ndarray]:
    from sklearn.feature_extraction.text import TfidfVectorizer

    wv = TfidfVectorizer(analyzer=_word_analyzer, min_df=2, sublinear_tf=True)
    cv = TfidfVectorizer(analyzer=_char_analyzer, min_df=2, sublinear_tf=True)
    wv.fit(texts)
    cv.fit(texts)
    return wv, cv, vader


def _matrix(texts: list[str], wv: Any, cv: Any, vad: np.ndarray, scale: float) -> Any:
    from scipy.sparse import csr_matrix, hstack

    return hstack([wv.transform(texts), cv.transform(texts), csr_matrix(vad * scale)]).tocsr()


def _vader_table(texts: list[str]) -> np.ndarray:
    analyzer = vader_analyzer()
    return np.array([[analyzer.polarity_scores(t)[k] for k in VADER_KEYS] for t in texts])


def train_sentiment(data_dir: Path, out: Path, *, sample: int | None = None) -> dict[str, Any]:
    from sklearn.linear_model import LogisticRegression

    texts, y, source = load_sentences(data_dir)
    if sample is not None and sample < len(texts):
        keep = np.sort(np.random.default_rng(SEED).choice(len(texts), sample, replace=False))
        texts, y, source = [texts[i] for i in keep], y[keep], source[keep]
    vad = _vader_table(texts)
    tr, va, te = stratified_split(y * 10 + source, (0.6, 0.2, 0.2), SEED)
    sub = lambda idx: [texts[i] for i in idx]  # noqa: E731
    wv, cv, _ = _features(sub(tr), None)
    selection = []
    for scale in (0.0, 1.0, 3.0):
        xtr, xva = _matrix(sub(tr), wv, cv, vad[tr], scale), _matrix(sub(va), wv, cv, vad[va], scale)
        for c in (1.0, 3.0, 10.0, 30.0):
            m = LogisticRegression(C=c, max_iter=3000).fit(xtr, y[tr])
            acc = float(np.mean(m.predict(xva) == y[va]))
            selection.append({"vader_scale": scale, "C": c, "val_accuracy": round(acc, 5)})
    best = max(selection, key=lambda s: s["val_accuracy"])

    fit = np.sort(np.concatenate([tr, va]))
    wv, cv, _ = _features(sub(fit), None)
    model = LogisticRegression(C=best["C"], max_iter=3000).fit(
        _matrix(sub(fit), wv, cv, vad[fit], best["vader_scale"]), y[fit]
    )
    coef = model.coef_[0]
    nw, nc = len(wv.vocabulary_), len(cv.vocabulary_)
    word = {t: [round(float(wv.idf_[j]), 6), round(float(coef[j]), 6)] for t, j in wv.vocabulary_.items()}
    char = {t: [round(float(cv.idf_[j]), 6), round(float(coef[nw + j]), 6)] for t, j in cv.vocabulary_.items()}
    artifact = {
        "word": word,
        "char": char,
        "vader_coef": [float(v) for v in coef[nw + nc :]],
        "vader_scale": best["vader_scale"],
        "intercept": float(model.intercept_[0]),
        "neutral": list(NEUTRAL),
    }
    with gzip.GzipFile(out / "sentiment.json.gz", "wb", mtime=0) as fh:  # mtime=0: reproducible bytes
        fh.write(json.dumps(artifact, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8"))

    # measured once, through the numpy serving path itself
    from hotcrm_ai_plugins.runners.sentiment import SentimentRunner

    runner = SentimentRunner(out, {"artifact": "sentiment.json.gz"})
    p = runner.scores(sub(te))
    metrics = classifier_metrics(y[te], p, 0.5)
    confident = (p <= NEUTRAL[0]) | (p >= NEUTRAL[1])
    metrics.update(
        {
            "neutral_share": float(1 - confident.mean()),
            "accuracy_outside_neutral": float(np.mean((p[confident] >= 0.5) == y[te][confident])),
            "label_accuracy_neutral_counted_wrong": float(np.mean(confident & ((p >= 0.5) == y[te]))),
            "accuracy_by_source": {
                s.split("_")[0]: float(np.mean((p[source[te] == k] >= 0.5) == y[te][source[te] == k]))
                for k, s in enumerate(SOURCES)
            },
            "vader_only_accuracy": float(np.mean((vad[te][:, 0] >= 0.05) == y[te])),
            "n_train": len(fit),
            "vocabulary": {"word": nw, "char": nc},
            "selected": best,
        }
    )
    background = [{"text": texts[i]} for i in np.random.default_rng(SEED).choice(fit, 20, replace=False)]
    features = [
        {
            "name": "text",
            "dtype": "string",
            "description": "the text to rate: any length (only the first 5,000 characters are scored), any language "
            "(trained on English)",
        }
    ]
    return {
        "metrics": metrics,
        "selection": selection,
        "artifact": "sentiment.json.gz",
        "features": features,
        "background": background,
    }
