"""``ExplainabilityService``: explain any provider's model through its ``batch_predict``.

It fixes which number is explained, builds the background, wraps the provider in a counting,
chunking, budget-capped ``score`` function, picks the method (the caller's, else the model's, else
linear when the provider exposes coefficients, else exact up to ``max_exact_features``, else kernel),
and checks additivity on every explanation before returning it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from operator import itemgetter
from typing import TYPE_CHECKING, Any

import attrs

from hotcrm_ai.errors import ExplanationError, FieldError, HotCRMAIError, ValidationError
from hotcrm_ai.explain.background import background_rows
from hotcrm_ai.explain.output import explained_key, explained_number, output_kind
from hotcrm_ai.explain.text import reason_text
from hotcrm_ai.interfaces import Attribution, ExplanationTask, LinearModel
from hotcrm_ai.prediction.guarded import GuardedProvider
from hotcrm_ai.types import Explanation, ModelConfig, PredictionInput

if TYPE_CHECKING:
    import numpy as np

    from hotcrm_ai.config import ExplainSettings
    from hotcrm_ai.descriptors import ExplainerSpec
    from hotcrm_ai.explain.compare import Comparison
    from hotcrm_ai.explain.linear_batch import BatchExplanation
    from hotcrm_ai.explain.linear_row import CompiledLinear
    from hotcrm_ai.interfaces import Explainer
    from hotcrm_ai.provider import BaseMLProvider

CHUNK_ROWS = 2048  # rows per provider call: bounds memory of one coalition batch
TOLERANCE = {"linear": 1e-6}  # additivity, relative to max(1, |output|, |base|); others 1e-9
AUTO_ORDER = ("linear", "text", "exact", "kernel")


class Scorer:
    """The ``score`` of an ``ExplanationTask``: provider calls in chunks, evaluations counted and capped."""

    def __init__(
        self, provider: BaseMLProvider, model: ModelConfig, key: str | None, budget: int, chunk_rows: int = CHUNK_ROWS
    ) -> None:
        self.provider, self.model, self.key = provider, model, key
        self.budget, self.chunk_rows = budget, max(1, chunk_rows)
        self.evaluations = 0
        self.calls = 0

    def _chunks(self, rows: Sequence[Mapping[str, Any]]) -> Iterator[tuple[int, list[Any]]]:
        """(offset, raw predictions) per provider call; counted, and refused past the budget."""
        n = len(rows)
        if self.evaluations + n > self.budget:
            raise ExplanationError(
                f"model {self.model.id}: explanation needs {self.evaluations + n} model evaluations, "
                f"budget is {self.budget} ([explain] budget)"
            )
        for start in range(0, n, self.chunk_rows):
            inputs = [PredictionInput(features=r) for r in rows[start : start + self.chunk_rows]]
            try:
                got = self.provider.batch_predict(self.model, inputs)
            except HotCRMAIError:
                raise
            except Exception as exc:  # a provider bug must not leak as an untyped error (as in predict)
                raise ExplanationError(
                    f"model {self.model.id}: provider {type(self.provider).__name__} failed: "
                    f"{type(exc).__name__}: {str(exc)[:200]}"
                ) from exc
            self.calls += 1
            if len(got) != len(inputs):
                raise ExplanationError(
                    f"model {self.model.id}: provider returned {len(got)} predictions for {len(inputs)} rows"
                )
            self.evaluations += len(inputs)
            yield start, [o.prediction for o in got]

    def outputs(self, rows: Sequence[Mapping[str, Any]]) -> list[Any]:
        """Raw predictions of ``rows`` (counted), in order."""
        return [p for _, chunk in self._chunks(rows) for p in chunk]

    def __call__(self, rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """The explained number of every row. Chunk by chunk, so only one chunk's rows and outputs are
        alive at a time (memory, and the garbage collector's work, stay bounded)."""
        import numpy as np

        out = np.empty(len(rows), dtype=float)
        model, key = self.model, self.key
        for start, chunk in self._chunks(rows):
            out[start : start + len(chunk)] = [explained_number(model, p, key) for p in chunk]
        return out


def check_features(features: Any) -> list[str]:
    """Feature names of the explained row; bad input is a ``ValidationError`` naming the field."""
    if not isinstance(features, Mapping):
        raise ValidationError(f"a table of feature values, got {type(features).__name__}", subject="features")
    if not features:
        raise ValidationError("at least one feature", subject="features")
    errors: list[FieldError] = []
    for k, v in features.items():
        if not isinstance(k, str):
            errors.append(FieldError(field=repr(k), expected="a string feature name", got=type(k).__name__))
        elif isinstance(v, float) and not math.isfinite(v):
            errors.append(FieldError(field=k, expected="a finite number", got=str(v)))
    if errors:
        raise ValidationError(errors, subject="features")
    return list(features)


def check_additivity(exp: Explanation, model: ModelConfig) -> float:
    """The additivity gap; raises when it exceeds the method's tolerance (the contract, not a hope)."""
    total = exp.base_value + math.fsum(c.contribution for c in exp.contributions)
    gap = abs(total - exp.output_value)
    scale = max(1.0, abs(exp.output_value), abs(exp.base_value))
    if not gap <= TOLERANCE.get(exp.method, 1e-9) * scale:
        raise ExplanationError(
            f"model {model.id}: {exp.method} attributions do not add up: base {exp.base_value!r} + "
            f"sum {total - exp.base_value!r} != output {exp.output_value!r} (is the model deterministic?)"
        )
    return gap


class ExplainabilityService:
    def __init__(self, explainers: Mapping[str, ExplainerSpec], settings: ExplainSettings) -> None:
        self.specs = dict(explainers)
        self.settings = settings
        self._instances: dict[str, Explainer] = {}
        self._linear: dict[tuple[Any, ...], tuple[BaseMLProvider, ModelConfig, CompiledLinear | None]] = {}

    def explainer(self, name: str) -> Explainer:
        if name not in self.specs:
            available = ", ".join(sorted(self.specs)) or "none"
            raise ExplanationError(f"explainer {name!r} is not registered; available: {available}")
        if name not in self._instances:
            self._instances[name] = self.specs[name].factory()
        return self._instances[name]

    def _choose(self, task: ExplanationTask, requested: str | None) -> Explainer:
        m, b = len(task.features), len(task.background)
        if requested:
            explainer = self.explainer(requested)
            if not explainer.supports(task):
                why = (
                    "no coefficients from the provider"
                    if requested == "linear" and task.linear is None
                    else (
                        f"{m} features x {b} background rows do not fit the budget "
                        f"({task.budget} model evaluations left of [explain] budget {self.settings.budget})"
                    )
                )
                raise ExplanationError(f"explainer {requested!r} cannot explain model {task.model.id}: {why}")
            return explainer
        for name in AUTO_ORDER:
            if name not in self.specs:
                continue
            if name == "linear" and task.linear is None:
                continue
            if name == "exact" and m > self.settings.max_exact_features:
                continue
            explainer = self.explainer(name)
            if explainer.supports(task):
                return explainer
        for name in sorted(set(self.specs) - set(AUTO_ORDER)):
            explainer = self.explainer(name)
            if explainer.supports(task):
                return explainer
        raise ExplanationError(
            f"no explainer can explain model {task.model.id} ({m} features, {b} background rows) within "
            f"a budget of {task.budget} model evaluations; raise [explain] budget or use fewer background rows"
        )

    def explain_model(
        self,
        model: ModelConfig,
        features: Mapping[str, Any],
        provider: BaseMLProvider,
        *,
        method: str | None = None,
        prediction: Any = None,
        validated: bool = False,
    ) -> Explanation:
        """Explain ``model``'s output for ``features``. ``prediction``, if the caller already has it
        (predict with explain=True), saves one model evaluation. ``validated``: the features come from
        the model's own validation (``validate_features``), so they are used as they are.

        A model whose provider gives logit-link coefficients is explained by its compiled closed form
        (no model call) unless another method is asked for; then a provider's own additive account;
        then the chosen or automatic sampling method."""
        if validated:
            names, x = list(features), features if isinstance(features, dict) else dict(features)
        else:
            names = check_features(features)
            x = {n: features[n] for n in names}
        chosen = method or model.explainer
        if chosen in (None, "linear"):
            compiled = self.compiled_linear(model, x, provider)
            if compiled is not None:
                return compiled.row(x).explanation()
        if chosen in (None, "additive") and "additive" in self.specs:
            attribution = _attribution_of(provider, model, x)
            if attribution is not None:
                return self._explain_additive(model, x, attribution)
            if chosen == "additive":
                raise ExplanationError(
                    f"explainer 'additive' cannot explain model {model.id}: provider "
                    f"{type(provider).__name__} gives no additive account of its output"
                )
        budget = self.settings.budget
        linear = _over_declared_background(provider.linear_model(model), model)
        try:
            background, source = background_rows(
                model, names, max_rows=self.settings.max_background, seed=self.settings.seed
            )
        except ExplanationError:
            if linear is None or (method or model.explainer or "linear") != "linear":
                raise
            background, source = [], "none (the linear closed form uses the training means)"
        if prediction is None:
            first = Scorer(provider, model, None, budget).outputs([x])[0]
            spent = 1
        else:
            first, spent = prediction, 0
        key = explained_key(model, first)
        model_output = explained_number(model, first, key)
        scorer = Scorer(provider, model, key, budget - spent)
        task = ExplanationTask(
            model=model,
            features=x,
            score=scorer,
            background=background,
            output_kind=output_kind(model, key),
            budget=budget - spent,
            seed=self.settings.seed,
            linear=linear,
        )
        explainer = self._choose(task, method or model.explainer)
        exp = explainer.explain(task)
        gap = check_additivity(exp, model)
        return attrs.evolve(
            exp,
            text=exp.text or reason_text(exp.top_features),
            evaluations=scorer.evaluations + spent,
            metadata={
                **exp.metadata,
                "explained_field": key,
                "model_output": model_output,
                "background_source": source,
                "background_rows": len(background),
                "provider_calls": scorer.calls + spent,
                "additivity_gap": gap,
            },
        )

    def compiled_linear(
        self, model: ModelConfig, names: Iterable[str], provider: BaseMLProvider
    ) -> CompiledLinear | None:
        """The model's closed form over its declared background's mean, compiled once per model
        version, provider instance and field list; None when the provider has no logit-link
        coefficients or ``linear`` was replaced by another explainer (remembered too, so a model
        without coefficients is not asked again on every call). A wrapper (the guarded scoring
        provider) shares the entries of the provider it wraps."""
        inner = provider.inner if isinstance(provider, GuardedProvider) else provider
        fields = tuple(names)
        entry = self._linear.get((model.id, model.version, id(inner), fields))
        if entry is not None and entry[0] is inner and entry[1] is model:
            return entry[2]
        model_key = (model.id, model.version, id(inner), None)
        entry = self._linear.get(model_key)
        if entry is not None and entry[0] is inner and entry[1] is model and entry[2] is None:
            return None
        compiled = self._compile_linear(model, fields, inner)
        if len(self._linear) >= 256:
            self._linear.clear()
        # the provider and model are held, so their ids cannot be reused while the entry lives
        self._linear[model_key if compiled is None else (model.id, model.version, id(inner), fields)] = (
            inner,
            model,
            compiled,
        )
        return compiled

    def _compile_linear(
        self, model: ModelConfig, names: tuple[str, ...], provider: BaseMLProvider
    ) -> CompiledLinear | None:
        from hotcrm_ai.explain.linear import LinearExplainer
        from hotcrm_ai.explain.linear_batch import PreparedLinear
        from hotcrm_ai.explain.linear_row import CompiledLinear

        if not names or "linear" not in self.specs or not isinstance(self.explainer("linear"), LinearExplainer):
            return None
        lin = _over_declared_background(provider.linear_model(model), model)
        if lin is None or lin.link != "logit":
            return None
        return CompiledLinear(PreparedLinear.build(lin, names, model), model)

    def explain_batch(
        self,
        model: ModelConfig,
        rows: Sequence[Mapping[str, Any]] | Mapping[str, Sequence[Any]],
        provider: BaseMLProvider,
    ) -> BatchExplanation:
        """Linear attributions of many rows in one vectorised pass: a list of rows that all carry the
        same fields, or a table as columns (field -> list or numpy array, all of one length, read
        without building a dictionary per row). A list of rows is read into columns first (one pass
        per field) when the model computes its terms from columns, so both shapes cost the same
        checks, which name each bad value as ``rows[i].field``. A model without logit-link
        coefficients gets ``ExplanationError`` (explain its rows one by one)."""
        if isinstance(rows, Mapping):
            names, n = self._check_columns(rows)
            columns: Mapping[str, Any] = rows
        else:
            if not rows:
                raise ValidationError("at least one row", subject="rows")
            names, n = check_features(rows[0]), len(rows)
            columns = self._columns_of(rows, names)
        compiled = self.compiled_linear(model, names, provider)
        if compiled is None:
            raise ExplanationError(
                f"model {model.id}: batched explanations need a linear model with a logit link "
                f"(provider {type(provider).__name__} gives none); use explain per row"
            )
        if isinstance(rows, Mapping) or compiled.prepared.reads_columns:
            return compiled.prepared.explain_columns(columns, n, model, "log-odds")
        return compiled.prepared.explain_rows(rows, model, "log-odds")

    @classmethod
    def _columns_of(cls, rows: Sequence[Mapping[str, Any]], names: list[str]) -> dict[str, list[Any]]:
        """The rows as columns, one pass per field; this is also the check that every row holds
        exactly the fields of ``rows[0]`` (as many keys, each of them present), at C speed for the
        usual list of dicts. A row that differs is a ``ValidationError`` naming it."""
        if not ({*map(type, rows)} == {dict} and {*map(len, rows)} == {len(names)}):  # type: ignore[arg-type]
            cls._check_table(rows, names)  # not the usual table: find the first row that differs
        try:
            return {name: list(map(itemgetter(name), rows)) for name in names}
        except KeyError:  # as many fields as rows[0], not the same ones
            cls._check_table(rows, names)
            raise

    @staticmethod
    def _check_columns(columns: Mapping[str, Any]) -> tuple[list[str], int]:
        names = check_features(columns)
        lengths = {}
        for name in names:
            try:
                lengths[name] = len(columns[name])
            except TypeError:
                raise ValidationError(
                    [FieldError(field=name, expected="a column (list or array)", got=type(columns[name]).__name__)],
                    subject="columns",
                ) from None
        n = lengths[names[0]]
        wrong = [
            FieldError(field=k, expected=f"{n} values (as {names[0]})", got=str(m))
            for k, m in lengths.items()
            if m != n
        ]
        if wrong:
            raise ValidationError(wrong, subject="columns")
        if n == 0:
            raise ValidationError("at least one row", subject="columns")
        return names, n

    @staticmethod
    def _check_table(rows: Sequence[Mapping[str, Any]], names: list[str]) -> None:
        keys = rows[0].keys()
        for i, row in enumerate(rows):
            if not isinstance(row, Mapping) or row.keys() != keys:
                got = ", ".join(map(str, row)) if isinstance(row, Mapping) else type(row).__name__
                expected = f"the fields of rows[0] ({', '.join(names)})"
                raise ValidationError([FieldError(field=f"rows[{i}]", expected=expected, got=got)], subject="rows")

    def _explain_additive(self, model: ModelConfig, x: dict[str, Any], attribution: Attribution) -> Explanation:
        def no_calls(rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
            raise ExplanationError(f"model {model.id}: the additive explainer makes no model calls")

        task = ExplanationTask(
            model=model,
            features=x,
            score=no_calls,
            background=[],
            output_kind=attribution.output_kind,
            budget=0,
            seed=self.settings.seed,
            attribution=attribution,
        )
        exp = self.explainer("additive").explain(task)
        gap = check_additivity(exp, model)
        return attrs.evolve(
            exp,
            evaluations=1,
            metadata={**exp.metadata, "model_output": attribution.output, "provider_calls": 1, "additivity_gap": gap},
        )

    def compare(
        self,
        model: ModelConfig,
        a: Mapping[str, Any],
        b: Mapping[str, Any],
        provider: BaseMLProvider,
        *,
        method: str | None = None,
        validated: bool = False,
    ) -> Comparison:
        """Which changed features moved the output: both inputs explained by the same method and background."""
        from hotcrm_ai.explain.compare import build_comparison

        ea = self.explain_model(model, a, provider, method=method, validated=validated)
        eb = self.explain_model(model, b, provider, method=ea.method, validated=validated)
        return build_comparison(model, a, b, ea, eb)


def _attribution_of(provider: BaseMLProvider, model: ModelConfig, x: Mapping[str, Any]) -> Attribution | None:
    """The provider's own additive account of the model's output, if it gives one (a provider bug
    becomes an ``ExplanationError``, as in ``Scorer``)."""
    method = getattr(provider, "attribution", None)
    if not callable(method):
        return None
    try:
        return method(model, x)
    except HotCRMAIError:
        raise
    except Exception as exc:
        raise ExplanationError(
            f"model {model.id}: provider {type(provider).__name__} attribution failed: "
            f"{type(exc).__name__}: {str(exc)[:200]}"
        ) from exc


def _over_declared_background(linear: LinearModel | None, model: ModelConfig) -> LinearModel | None:
    """E[x] of the closed form over the model's declared background, when it has one, so that every
    method explains against the same reference data (linear then equals exact interventional
    enumeration over that background, in link space); the provider's training means otherwise."""
    if linear is None or not model.background:
        return linear
    import numpy as np

    try:
        encoded = np.asarray(linear.encode([dict(r) for r in model.background]), dtype=float)
    except Exception:  # a background the encoder cannot read: keep the training means
        return linear
    if encoded.ndim != 2 or encoded.shape[1] != np.asarray(linear.coef).size or not np.all(np.isfinite(encoded)):
        return linear
    return attrs.evolve(linear, mean=encoded.mean(axis=0))
