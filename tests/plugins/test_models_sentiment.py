"""Sentiment: clear sentences, any unicode and length, the numpy path equals the trained model."""

from __future__ import annotations

import numpy as np
import pytest
from support.models import batch, models, predict, provider

from hotcrm_ai.errors import ValidationError
from hotcrm_ai_plugins.runners.text import MAX_CHARS

ID = "sentiment-analysis-v1"

POSITIVE = [
    "Thanks for the quick fix - the new dashboard is great and your support team was really helpful!",
    "Excellent product, works perfectly and I love it.",
    "The onboarding call was fantastic, highly recommended.",
]
NEGATIVE = [
    "Still waiting for a refund after three weeks. Terrible service, I am very disappointed.",
    "The app keeps crashing and nobody answers my emails. Worst purchase ever.",
    "Poor quality, it broke after two days.",
]


def test_clear_sentences() -> None:
    p, m = provider(), models()[ID]
    for text in POSITIVE:
        out = predict(p, m, {"text": text})
        assert out.prediction["sentiment"] == "positive" and out.prediction["score"] > 0.6, text
    for text in NEGATIVE:
        out = predict(p, m, {"text": text})
        assert out.prediction["sentiment"] == "negative" and out.prediction["score"] < 0.4, text


def test_confidence_is_distance_from_even_odds() -> None:
    p, m = provider(), models()[ID]
    for out in batch(p, m, [{"text": t} for t in POSITIVE + NEGATIVE]):
        assert out.confidence == pytest.approx(min(100.0, 200 * abs(out.prediction["score"] - 0.5)), abs=0.01)
        assert out.metadata["neutral_band"] == [0.45, 0.55]


def test_batch_equals_single() -> None:
    p, m = provider(), models()[ID]
    rows = [{"text": t} for t in POSITIVE + NEGATIVE] + [dict(r) for r in m.background]
    assert [o.prediction for o in batch(p, m, rows)] == [predict(p, m, r).prediction for r in rows]


def test_unicode_and_very_long_text() -> None:
    p, m = provider(), models()[ID]
    for text in ("Très bien 👍 très rapide", "非常好", "😡😡😡", "ok", "\u200b\u200b x"):
        out = predict(p, m, {"text": text})
        assert 0 <= out.prediction["score"] <= 1
        assert out.prediction["sentiment"] in ("positive", "negative", "neutral")
    long = predict(p, m, {"text": "great service " * 100_000})
    assert long.metadata["truncated"] is True and long.prediction["sentiment"] == "positive"
    assert len("great service " * 100_000) > MAX_CHARS


@pytest.mark.parametrize("features", [{"text": ""}, {"text": "   \n"}, {"text": None}, {"text": 42}, {}])
def test_bad_text_raises_validation_error(features: dict) -> None:
    p, m = provider(), models()[ID]
    with pytest.raises(ValidationError) as info:
        predict(p, m, features)
    assert info.value.errors[0].field == "text"


def test_numpy_path_equals_scikit_learn_on_the_same_vocabulary() -> None:
    """The served TF-IDF reproduces scikit-learn's (sublinear tf, smooth idf, l2 norm per block)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    from hotcrm_ai_plugins.runners.sentiment import tfidf_score
    from hotcrm_ai_plugins.runners.text import normalise, words

    runner = provider().runner(models()[ID])
    vocab = runner.word_vocab
    texts = POSITIVE + NEGATIVE
    tv = TfidfVectorizer(
        analyzer=lambda d: words(normalise(d)), sublinear_tf=True, vocabulary={t: j for j, t in enumerate(vocab)}
    )
    tv.fit(texts)
    tv.idf_ = np.array([v[0] for v in vocab.values()])
    coef = [v[1] for v in vocab.values()]
    expected = tv.transform(texts) @ coef
    got = [tfidf_score(words(normalise(t)), vocab) for t in texts]
    assert got == pytest.approx(list(expected), abs=1e-9)
