"""The prediction service: validate, assign a variant, look in the cache, call the provider with
retries and a circuit breaker, fall back honestly; ``prediction.recording`` records every outcome.

One pass per request: the features are encoded to canonical JSON once (A/B subject and cache key),
validated once before the provider sees them, and the answer goes through the cache manager's typed
``get_or_refresh`` (its single flight: concurrent identical requests share one lookup and at most one
provider call). No mock predictions, ever: when the provider fails the answer comes from the
configured fallback model or from a stale cached answer, marked ``degraded`` with the reason;
otherwise ``PredictionError``.
"""

from __future__ import annotations

import logging
import operator
import random
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from operator import itemgetter
from typing import TYPE_CHECKING, Any, TypeVar

from hotcrm_ai.cache.keys import canonical_many, canonical_or_none
from hotcrm_ai.errors import (
    FieldError,
    HotCRMAIError,
    ModelInactiveError,
    ModelNotFoundError,
    PredictionError,
    ValidationError,
)
from hotcrm_ai.prediction import ab
from hotcrm_ai.prediction.guarded import GuardedProvider, counted
from hotcrm_ai.prediction.outcome import CacheRecord, Failure, RecordFields, Refused, Served
from hotcrm_ai.prediction.providers import ProviderPool
from hotcrm_ai.prediction.recording import Call, Recorder
from hotcrm_ai.prediction.resilience import CircuitBreaker, RetryPolicy, call_with_retries
from hotcrm_ai.prediction.validation import validate_features
from hotcrm_ai.registry import ModelRegistry
from hotcrm_ai.types import (
    Explanation,
    ModelConfig,
    PredictionInput,
    PredictionOutput,
    PredictionResult,
    validated_input,
)

if TYPE_CHECKING:
    from hotcrm_ai.cache.manager import CacheManager
    from hotcrm_ai.config import PredictionSettings
    from hotcrm_ai.explain.service import ExplainabilityService
    from hotcrm_ai.monitor.monitor import PerformanceMonitor

log = logging.getLogger("hotcrm_ai.prediction")
T = TypeVar("T")

Outcome = Served | Refused


def _check_model_id(model_id: Any) -> None:
    if not isinstance(model_id, str) or not model_id:
        raise ValidationError([FieldError("model_id", "a non-empty string", repr(model_id)[:60])], subject="request")


def _check_context(ctx: Mapping[str, Any]) -> None:
    """``tenant`` isolates cache entries and ``subject`` pins the A/B variant: both must be usable keys."""
    errors = []
    tenant = ctx.get("tenant")
    if tenant is not None and (not isinstance(tenant, str) or not tenant or len(tenant) > 200):
        errors.append(FieldError("tenant", "a non-empty string of at most 200 characters", repr(tenant)[:60]))
    subject = ctx.get("subject")
    if subject is not None and (isinstance(subject, bool) or not isinstance(subject, (str, int))):
        errors.append(FieldError("subject", "a string or an integer (a stable customer key)", repr(subject)[:60]))
    if errors:
        raise ValidationError(errors, subject="context")


def _needs_canonical(model: ModelConfig, use_cache: bool) -> bool:
    """Whether anything will read the canonical features: the cache key, or a sticky A/B subject."""
    ab_test = model.ab_test
    return use_cache or (ab_test is not None and ab_test.enabled)


_canonical = canonical_or_none  # the request's canonical JSON, encoded once; None: validation will say why
_CANONICAL = itemgetter(1)  # of a batch row (features, canonical JSON)
_TUPLE = frozenset((tuple,))  # a fresh hit's outcome is its record's fields (RecordFields)


_document: Callable[[Outcome], Any] = operator.methodcaller("document")
"""What the cache keeps of an outcome: a served answer's record document, else nothing (``Refused``
and degraded answers give None); called in C, with no frame of its own."""


class PredictionService:
    def __init__(
        self,
        registry: ModelRegistry,
        providers: ProviderPool,
        cache: CacheManager,
        monitor: PerformanceMonitor,
        settings: PredictionSettings,
        explainer: ExplainabilityService | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        seed: int | None = None,
    ) -> None:
        self.registry = registry
        self.providers = providers
        self.cache = cache
        self.monitor = monitor
        self.recorder = Recorder(monitor)
        self.settings = settings
        self.explainer = explainer
        self.policy = RetryPolicy(settings.retries, settings.backoff_base_s, settings.backoff_max_s)
        self._sleep = sleep
        self._rng = random.Random(seed)  # jitter only; random() is atomic under the GIL

    # -- public ----------------------------------------------------------------------------

    def predict(
        self,
        model_id: str,
        features: Mapping[str, Any],
        *,
        context: Mapping[str, Any] | None = None,
        use_cache: bool = True,
        explain: bool = False,
    ) -> PredictionResult:
        ctx = dict(context or {})
        call = Call(model_id, None, ctx, time.perf_counter())
        if type(model_id) is not str or not model_id:
            _check_model_id(model_id)
        served_model: ModelConfig | None = None
        try:
            if ctx:
                _check_context(ctx)
            requested = self._active(model_id)
            canonical = _canonical(features) if _needs_canonical(requested, use_cache) else None
            ab_test = requested.ab_test
            if ab_test is None or not ab_test.enabled:  # what ab.assign answers without a test
                served_model = requested
            else:
                served_model, call.variant = ab.assign(
                    requested, self.registry, ctx, features if isinstance(features, Mapping) else {}, canonical
                )
            outcome = self._serve_one(served_model, features, canonical, call, use_cache=use_cache, explain=explain)
            if isinstance(outcome, Refused):
                for failure in outcome.failures:
                    self.recorder.failure(call, failure)
                raise outcome.error
        except ModelNotFoundError:
            raise  # no model to attribute it to: recording it would grow a buffer per unknown id
        except HotCRMAIError as exc:
            self.recorder.error(call, served_model or self.registry.find(model_id), exc, variant=call.variant)
            raise
        except Exception as exc:  # a provider bug: reported as a failure, raised typed
            self.recorder.error(call, served_model or self.registry.find(model_id), exc, variant=call.variant)
            raise PredictionError(
                f"{model_id}: unexpected {type(exc).__name__}: {exc}", model_id=model_id, cause=exc
            ) from exc
        return self.recorder.finish(call, outcome)

    def batch_predict(
        self,
        model_id: str,
        rows: Sequence[Mapping[str, Any]],
        *,
        context: Mapping[str, Any] | None = None,
        use_cache: bool = True,
    ) -> list[PredictionResult]:
        """One result per row, in order; a failed row holds its error and does not fail the batch."""
        if isinstance(rows, (Mapping, str, bytes)):
            raise ValidationError("a list of feature objects", subject="rows")
        rows = list(rows)
        if not rows:
            return []
        start = time.perf_counter()
        _check_model_id(model_id)
        ctx = dict(context or {})
        _check_context(ctx)
        requested = self._active(model_id)
        from hotcrm_ai.scoring.rows import columnar_batch  # vectorised when the provider can and nothing is cached

        fast = columnar_batch(self, model_id, rows, ctx, use_cache=use_cache)
        if fast is not None:
            return fast
        n = len(rows)
        results: list[PredictionResult | None] = [None] * n
        canonicals = canonical_many(rows) if _needs_canonical(requested, use_cache) else [None] * n
        ab_test = requested.ab_test
        groups: dict[str, tuple[ModelConfig, str | None, list[int]]] = {}
        if ab_test is None or not ab_test.enabled or not ab_test.champion_model_id:
            groups[requested.key] = (requested, None, list(range(n)))  # what ab.assign gives every row
        else:
            for i, row in enumerate(rows):
                served_model, variant = ab.assign(
                    requested, self.registry, ctx, row if isinstance(row, Mapping) else {}, canonicals[i]
                )
                groups.setdefault(served_model.key, (served_model, variant, []))[2].append(i)
        for model, variant, idx in groups.values():
            call = Call(model_id, variant, ctx, start)
            if len(idx) == n:
                group_rows = list(zip(rows, canonicals, strict=True))
            else:
                group_rows = [(rows[i], canonicals[i]) for i in idx]
            outcomes = self._serve_many(model, group_rows, call, use_cache=use_cache)
            if len(groups) == 1 and _TUPLE.issuperset(map(type, outcomes)):  # every row a fresh hit
                return self.recorder.finish_cached(call, model, outcomes)  # type: ignore[arg-type]
            hits = [j for j, o in enumerate(outcomes) if type(o) is tuple]
            if hits:  # fresh cache hits: results and events in bulk
                cached = self.recorder.finish_cached(call, model, [outcomes[j] for j in hits])  # type: ignore[misc]
                for j, result in zip(hits, cached, strict=True):
                    results[idx[j]] = result
            for j, outcome in enumerate(outcomes):
                if type(outcome) is not tuple:
                    results[idx[j]] = self._row_result(call, model, outcome)  # type: ignore[arg-type]
        return [r for r in results if r is not None]

    def _row_result(self, call: Call, model: ModelConfig, outcome: Outcome | BaseException) -> PredictionResult:
        if isinstance(outcome, Served):
            return self.recorder.finish(call, outcome)
        error = outcome.error if isinstance(outcome, Refused) else outcome
        if isinstance(outcome, Refused):
            for failure in outcome.failures:
                self.recorder.failure(call, failure)
        self.recorder.error(call, model, error, variant=call.variant)
        return self.recorder.failed_result(call, model, error)

    # -- one row ---------------------------------------------------------------------------

    def _active(self, model_id: str) -> ModelConfig:
        model = self.registry.get(model_id)
        if model.status != "active":
            raise ModelInactiveError(model.id, model.status)
        return model

    def _serve_one(
        self, model: ModelConfig, features: Any, canonical: bytes | None, call: Call, *, use_cache: bool, explain: bool
    ) -> Outcome:
        key = None
        if use_cache and canonical is not None and model.cache_ttl_s > 0 and self.cache.settings.enabled:
            # the key of the request as given: answers are stored only for inputs that passed
            # validation, so a hit needs no second validation; input with no canonical form (NaN, not
            # a mapping) gets no key and is refused by validation with the field-by-field message
            try:
                key = self.cache.request_key(call.ctx.get("tenant"), model.id, model.version, canonical)
            except ValidationError:
                pass
        if key is None:
            return self._compute(model, validate_features(model, features), call.ctx, None, explain)

        # a fresh hit needs no flight: these exact features were validated when the answer was stored
        writes = self.cache.writes()
        hit = self.cache.get(key, CacheRecord)
        if hit is not None and self._fresh(model, hit):
            outcome: Outcome = Served.from_record(model, hit)
        else:

            def compute(stale: CacheRecord | None) -> tuple[Outcome, float]:
                # the lookup happened inside the flight, so a caller cannot miss just before the leader
                # stores and then call the provider a second time
                previous = Served.from_record(model, stale) if stale is not None else None
                outcome = self._compute(model, validate_features(model, features), call.ctx, previous, explain)
                return outcome, self._store_ttl(model)

            lookup = self.cache.get_or_refresh(
                key,
                compute,
                type_=CacheRecord,
                fresh=lambda record: self._fresh(model, record),
                store=_document,
                missed=True,
                unchanged_since=writes if hit is None else None,  # a stale entry is looked at again
            )
            outcome = Served.from_record(model, lookup.value) if lookup.source == "cache" else lookup.value
        if explain and isinstance(outcome, Served) and outcome.explanation is None and outcome.degraded_reason is None:
            clean = validate_features(outcome.model, features)
            explanation = self._explain(outcome.model, clean, outcome.output.prediction)
            if explanation is not None:
                outcome = Served(
                    outcome.model,
                    outcome.output,
                    stored_at=outcome.stored_at,
                    cached=outcome.cached,
                    explanation=explanation,
                    failures=outcome.failures,
                )
                self._store(key, outcome)
        return outcome

    def _compute(
        self, model: ModelConfig, features: dict[str, Any], ctx: dict[str, Any], stale: Served | None, explain: bool
    ) -> Outcome:
        try:
            output = self._call(model, features, ctx)
        except ValidationError:
            raise
        except Exception as exc:
            return self._fallback(model, features, ctx, exc, stale)
        served = Served(model, output, time.time())  # stored_at (positional: no keyword dict for the call)
        if explain:
            served.explanation = self._explain(model, features, output.prediction)
        return served

    def call_guarded(self, breaker: CircuitBreaker, fn: Callable[[], T]) -> T:
        """``fn()`` (one provider call) under this service's retry policy and ``breaker``: what every
        provider call made for a prediction or a scored chunk goes through."""
        return call_with_retries(fn, self.policy, breaker=breaker, rng=self._rng, sleep=self._sleep)[0]

    def _call(self, model: ModelConfig, features: dict[str, Any], ctx: dict[str, Any]) -> PredictionOutput:
        provider, breaker = self.providers.get(model)
        inp = validated_input(features, ctx)  # validate_features gave them
        output = self.call_guarded(breaker, lambda: provider.predict(model, inp))
        if not isinstance(output, PredictionOutput):
            raise PredictionError(
                f"provider {model.provider} returned {type(output).__name__}, expected PredictionOutput",
                model_id=model.id,
            )
        return output

    def _fallback(
        self,
        model: ModelConfig,
        features: dict[str, Any],
        ctx: dict[str, Any],
        cause: BaseException,
        stale: Served | None,
    ) -> Outcome:
        """A degraded answer (fallback model, else a stale cached one), or ``Refused``.

        Nothing is recorded here: the failures travel with the outcome, and every caller that gets it
        records them (one failure of the failing model per call when a degraded answer is served)."""
        reason = f"{model.id} failed ({type(cause).__name__}: {cause})"
        failures: list[Failure] = []
        fb_id = model.fallback_model_id
        if fb_id:
            fallback = self.registry.find(fb_id)
            if fallback is not None and fallback.status == "active" and fallback.id != model.id:
                try:
                    clean = validate_features(fallback, features)
                    output = self._call(fallback, clean, ctx)
                except Exception as exc:  # the fallback failed too: try what is left
                    log.warning("fallback %s for %s failed: %s", fb_id, model.id, exc)
                    failures.append(Failure(fallback, exc, as_variant=False))
                    reason = f"{reason}; fallback {fb_id} failed ({type(exc).__name__})"
                else:
                    return Served(
                        fallback,
                        output,
                        stored_at=time.time(),
                        degraded_reason=f"{reason}; served by fallback model {fallback.id}",
                        failures=(Failure(model, cause),),
                    )
            else:
                log.error("fallback model %s of %s is missing or inactive", fb_id, model.id)
        if stale is not None and stale.stored_at is not None:
            age = time.time() - stale.stored_at
            if age <= model.cache_ttl_s + self.settings.stale_if_error_s:
                return Served(
                    stale.model,
                    stale.output,
                    stored_at=stale.stored_at,
                    cached=True,
                    degraded_reason=f"{reason}; served a cached answer from {age:.0f} s ago",
                    explanation=stale.explanation,
                    failures=(*failures, Failure(model, cause, cached=True)),
                    success_event=False,
                )
        error = PredictionError(f"{reason}; no fallback available", model_id=model.id, cause=cause)
        error.__cause__ = cause
        return Refused(error, tuple(failures))

    # -- many rows -------------------------------------------------------------------------

    def _serve_many(
        self, model: ModelConfig, raw_rows: list[tuple[Any, bytes | None]], call: Call, *, use_cache: bool
    ) -> list[Outcome | tuple[Any, ...] | BaseException]:
        """Cache hits for rows as given (validated when stored; a fresh hit is its record's fields, a
        ``RecordFields`` tuple), then validation and the provider for the misses; a row that fails
        validation holds its ValidationError."""
        n = len(raw_rows)
        ctx = dict(call.ctx)
        out: list[Outcome | tuple[Any, ...] | BaseException | None] = [None] * n
        caching = use_cache and model.cache_ttl_s > 0
        keys: list[str | None] = [None] * n
        if caching:
            try:
                prefix = self.cache.key_prefix(tenant=ctx.get("tenant"), model_id=model.id, model_version=model.version)
            except ValidationError:
                caching = False
            else:
                keys = self.cache.digest_keys(prefix, list(map(_CANONICAL, raw_rows)))
        stale: list[Served | None] = [None] * n
        all_keyed = caching and None not in keys
        looked_up = list(range(n)) if all_keyed else [i for i, k in enumerate(keys) if k is not None]
        if looked_up:
            wanted = keys if all_keyed else [k for k in keys if k is not None]
            records = self.cache.get_many(wanted, RecordFields)  # type: ignore[arg-type]  # no None left
            model_id, version, ttl, now = model.id, model.version, model.cache_ttl_s, time.time()
            if all_keyed and None not in records:  # every row found: the freshness test on whole columns
                _, _, ids, versions, stored_at, _, _ = zip(*records, strict=True)
                # now - min(stored_at) is the largest age (a float subtraction keeps the order)
                if set(ids) == {model_id} and set(versions) == {version} and now - min(stored_at) <= ttl:
                    return records  # type: ignore[return-value]
            for i, record in zip(looked_up, records, strict=True):
                # (prediction, confidence, model_id, model_version, stored_at, metadata, explanation)
                if record is not None and record[2] == model_id and record[3] == version:
                    if now - record[4] <= ttl:
                        out[i] = record
                    else:
                        stale[i] = Served.from_record(model, CacheRecord(*record))
        misses = [i for i, o in enumerate(out) if o is None]
        if not misses:
            return out  # type: ignore[return-value]
        rows: list[dict[str, Any]] = [{}] * n
        for i in misses:
            try:
                rows[i] = validate_features(model, raw_rows[i][0])
            except ValidationError as exc:
                out[i] = exc
        misses = [i for i in misses if out[i] is None]
        if misses:
            try:
                provider, breaker = self.providers.get(model)
            except Exception as exc:
                for i in misses:
                    out[i] = exc
                return out  # type: ignore[return-value]
            if provider.batches_natively(model):
                inputs = [PredictionInput(features=rows[i], context=ctx, validated=True) for i in misses]
                try:
                    outputs = self.call_guarded(breaker, lambda: provider.batch_predict(model, inputs))
                    if len(outputs) != len(inputs):
                        raise PredictionError(
                            f"provider {model.provider} returned {len(outputs)} results for {len(inputs)} rows",
                            model_id=model.id,
                        )
                    now = time.time()
                    for i, output in zip(misses, outputs, strict=False):
                        out[i] = Served(model, output, stored_at=now)
                except Exception as exc:  # the batch failed as a whole: each row gets its own verdict
                    log.warning("batch call for %s failed (%s); serving rows one by one", model.id, exc)
                    for i in misses:
                        out[i] = self._row(model, rows[i], ctx, stale[i])
            else:
                workers = max(1, min(self.settings.max_concurrency, len(misses)))
                with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hotcrm-batch") as pool:
                    for i, res in zip(
                        misses, pool.map(lambda i: self._row(model, rows[i], ctx, stale[i]), misses), strict=False
                    ):
                        out[i] = res
            if caching:
                ttl = self._store_ttl(model)
                fresh = [
                    (key, record, ttl)
                    for i in misses
                    if (key := keys[i]) is not None
                    and isinstance(o := out[i], Served)
                    and (record := o.record()) is not None
                ]
                if fresh:
                    self._safe(lambda: self.cache.set_many(fresh))
        return out  # type: ignore[return-value]

    def _row(
        self, model: ModelConfig, row: dict[str, Any], ctx: dict[str, Any], stale: Served | None
    ) -> Outcome | BaseException:
        try:
            return Served(model, self._call(model, row, ctx), stored_at=time.time())
        except ValidationError as exc:
            return exc
        except Exception as exc:
            return self._fallback(model, row, ctx, exc, stale)

    # -- cache records ---------------------------------------------------------------------

    def _store_ttl(self, model: ModelConfig) -> float:
        return model.cache_ttl_s + max(0.0, self.settings.stale_if_error_s)

    def _store(self, key: str, served: Served) -> None:
        record = served.record()
        if record is not None:  # degraded answers are never cached
            self._safe(lambda: self.cache.set(key, record, self._store_ttl(served.model)))

    @staticmethod
    def _fresh(model: ModelConfig, record: CacheRecord) -> bool:
        return (
            record.model_id == model.id
            and record.model_version == model.version
            and time.time() - record.stored_at <= model.cache_ttl_s
        )

    # -- explanations ----------------------------------------------------------------------

    def scoring_provider(self, model: ModelConfig) -> GuardedProvider:
        """``model``'s provider for explanation scoring: the same instance, breaker and retries as a
        prediction (``prediction.guarded``)."""
        provider, breaker = self.providers.get(model)
        return GuardedProvider(provider, breaker, self.policy, rng=self._rng, sleep=self._sleep)

    def _explain(self, model: ModelConfig, features: dict[str, Any], prediction: Any) -> Explanation | None:
        if self.explainer is None:
            return None
        explainer = self.explainer
        try:
            provider = self.scoring_provider(model)
            return counted(
                self.monitor,
                model,
                provider,
                lambda: explainer.explain_model(model, features, provider, prediction=prediction, validated=True),
            )
        except HotCRMAIError as exc:
            log.info("no explanation for %s: %s", model.id, exc)
            return None

    @staticmethod
    def _safe(fn: Callable[[], Any]) -> None:
        try:
            fn()
        except Exception:  # the cache manager absorbs faults; this guards against the manager itself
            log.exception("cache write failed")
