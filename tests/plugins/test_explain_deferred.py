"""A linear explanation builds its records, top five, reason text and metadata on first read: for every
default model, the object ``ai.explain`` returns compares, prints, serialises and pickles exactly as
an eagerly built ``Explanation`` with the same values does."""

from __future__ import annotations

import copy
import json
import math
import pickle
import threading
from collections.abc import Callable
from typing import Any

import attrs
import pytest

from hotcrm_ai import AICloud
from hotcrm_ai.converter import converter
from hotcrm_ai.explain.linear_batch import points_phrase
from hotcrm_ai.explain.result import build_explanation
from hotcrm_ai.types import Explanation
from hotcrm_ai_plugins.models import examples
from hotcrm_ai_plugins.models.examples import CHURN_HIGH, LEAD_HOT, SENTIMENT_NEGATIVE

EXAMPLES = {**examples.EXAMPLES, "sentiment-analysis-v1": SENTIMENT_NEGATIVE}  # a negative text has more to explain
LINEAR = ("lead-scoring-v1", "churn-prediction-v1")


@pytest.fixture(scope="module")
def ai() -> Any:
    with AICloud.from_config() as cloud:
        yield cloud


def eager_copy(exp: Explanation) -> Explanation:
    """The same values through the constructor (what a JSON round trip or an older build gives)."""
    return Explanation(**{f.name: getattr(exp, f.name) for f in attrs.fields(Explanation)})


def is_deferred(exp: Explanation) -> bool:
    return not set(Explanation.DERIVED) & set(vars(exp))


@pytest.mark.parametrize("model_id", list(EXAMPLES))
def test_every_read_of_an_untouched_explanation_equals_the_eager_one(ai: Any, model_id: str) -> None:
    row = EXAMPLES[model_id]
    reference = eager_copy(ai.explain(model_id, row))
    assert not is_deferred(reference)
    reads: dict[str, Callable[[Explanation], Any]] = {
        "eq": lambda e: e,
        "repr": repr,
        "converter": converter.unstructure,
        "json": lambda e: json.dumps(converter.unstructure(e), ensure_ascii=False, default=str),
        "asdict": attrs.asdict,
        "pickle bytes": pickle.dumps,
        "unpickled": lambda e: pickle.loads(pickle.dumps(e)),
        "deepcopy": copy.deepcopy,
        "copy": copy.copy,
        "evolve": lambda e: attrs.evolve(e, evaluations=e.evaluations + 1),
        "text": lambda e: e.text,
        "metadata": lambda e: e.metadata,
    }
    for name, read in reads.items():
        fresh = ai.explain(model_id, row)  # untouched: this read is its first
        assert is_deferred(fresh) == (model_id in LINEAR), name
        assert read(fresh) == read(reference), name
    structured = converter.structure(converter.unstructure(ai.explain(model_id, row)), Explanation)
    assert structured == reference and not is_deferred(structured)


@pytest.mark.parametrize("model_id", LINEAR)
def test_deferred_linear_explanation_equals_the_generic_eager_builder(ai: Any, model_id: str) -> None:
    model = ai.registry.get(model_id)
    row = ai.linear_explainer(model_id)(EXAMPLES[model_id])
    exp = ai.explain(model_id, EXAMPLES[model_id])
    assert is_deferred(exp) and (exp.base_value, exp.output_value) == (row.base, row.output)
    assert row.phi_probability is not None
    effects = {n: points_phrase(100.0 * p) for n, p in zip(row.names, row.phi_probability, strict=True)}
    eager = build_explanation(
        model,
        row.features,
        row.names,
        list(row.phi),
        row.base,
        row.output,
        output_kind="log-odds",
        method="linear",
        exact=True,
        metadata=exp.metadata,
        effects=effects,
    )
    assert not is_deferred(eager)
    assert exp == eager and exp.text == eager.text
    # the reason text speaks in probability points, and only the five lines it shows are phrased
    assert exp.text.count("the probability by") == sum(1 for c in exp.top_features if c.contribution != 0) > 0
    assert math.isclose(sum(c.importance for c in exp.contributions), 100.0)


def test_fields_are_built_when_read_and_kept_and_the_object_stays_frozen(ai: Any) -> None:
    exp = ai.explain("lead-scoring-v1", LEAD_HOT)
    assert exp.base_value < exp.output_value and is_deferred(exp)  # the numbers do not build the rest
    text = exp.text
    assert set(Explanation.DERIVED) & set(vars(exp)) == {"text"}  # the text needs only the top five
    records = exp.contributions
    assert exp.text is text and exp.contributions is records and "_derive" in vars(exp)
    assert exp.top_features == tuple(sorted(records, key=lambda c: c.importance, reverse=True)[:5])
    assert exp.metadata["probability"]["text_uses"] == "probability points" and "_derive" not in vars(exp)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        exp.text = "changed"  # type: ignore[misc]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        ai.explain("lead-scoring-v1", LEAD_HOT).metadata = {}  # type: ignore[misc]


def test_threads_reading_one_untouched_explanation_see_the_same_values(ai: Any) -> None:
    reference = eager_copy(ai.explain("churn-prediction-v1", CHURN_HIGH))
    for _ in range(20):
        exp = ai.explain("churn-prediction-v1", CHURN_HIGH)
        start, seen = threading.Barrier(8), []

        def read(exp: Explanation = exp, start: threading.Barrier = start, seen: list[Any] = seen) -> None:
            start.wait()
            seen.append((exp.text, exp.contributions, exp.metadata))

        threads = [threading.Thread(target=read) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(seen) == 8
        assert all(s == (reference.text, reference.contributions, reference.metadata) for s in seen)
        assert exp == reference


def test_predict_with_explain_caches_the_built_explanation(ai: Any) -> None:
    out = ai.predict("lead-scoring-v1", LEAD_HOT, explain=True, use_cache=False)
    assert out.explanation is not None
    reference = eager_copy(ai.explain("lead-scoring-v1", LEAD_HOT))
    assert converter.unstructure(out) == converter.unstructure(attrs.evolve(out, explanation=reference))
