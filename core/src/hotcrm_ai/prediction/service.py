"""The prediction service: validate, assign a variant, look in the cache, call the provider with
retries and a circuit breaker, fall back honestly, record every outcome.

No mock predictions, ever: when the provider fails the answer comes from the configured fallback model
or from a stale cached answer, marked ``degraded`` with the reason; otherwise ``PredictionError``.
"""

from __future__ import annotations

import logging
import os
import random
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from hotcrm_ai.cache.singleflight import SingleFlight
from hotcrm_ai.errors import (
    FieldError,
    HotCRMAIError,
    ModelInactiveError,
    ModelNotFoundError,
    PredictionError,
    ValidationError,
)
from hotcrm_ai.prediction import ab
from hotcrm_ai.prediction.providers import ProviderPool
from hotcrm_ai.prediction.resilience import RetryPolicy, call_with_retries
from hotcrm_ai.prediction.validation import validate_features
from hotcrm_ai.registry import ModelRegistry
from hotcrm_ai.types import (
    ErrorInfo,
    Explanation,
    ModelConfig,
    PredictionEvent,
    PredictionInput,
    PredictionOutput,
    PredictionResult,
)

if TYPE_CHECKING:
    from hotcrm_ai.cache.manager import CacheManager
    from hotcrm_ai.config import PredictionSettings
    from hotcrm_ai.explain.service import ExplainabilityService
    from hotcrm_ai.monitor.monitor import PerformanceMonitor

log = logging.getLogger("hotcrm_ai.prediction")


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


class _Call:
    """Who asked for what: carried down so every outcome is recorded against the right names."""

    __slots__ = ("requested_id", "start", "variant")

    def __init__(self, requested_id: str, variant: str | None, start: float) -> None:
        self.requested_id = requested_id
        self.variant = variant
        self.start = start

    def latency_ms(self) -> float:
        return (time.perf_counter() - self.start) * 1000


class _Served:
    """One row's provider answer, before it becomes a PredictionResult."""

    __slots__ = ("cached", "degraded_reason", "explanation", "model", "output", "recorded", "stored_at")

    def __init__(
        self,
        model: ModelConfig,
        output: PredictionOutput,
        *,
        cached: bool = False,
        stored_at: float | None = None,
        degraded_reason: str | None = None,
        explanation: Explanation | None = None,
    ) -> None:
        self.model = model
        self.output = output
        self.cached = cached
        self.stored_at = stored_at
        self.degraded_reason = degraded_reason
        self.explanation = explanation
        self.recorded = False  # True when the outcome event was already written (stale answers)


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
        self.settings = settings
        self.explainer = explainer
        self.policy = RetryPolicy(settings.retries, settings.backoff_base_s, settings.backoff_max_s)
        self._sleep = sleep
        self._rng = random.Random(seed)  # jitter only; random() is atomic under the GIL
        self._flights: SingleFlight[_Served] = SingleFlight()

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
        start = time.perf_counter()
        _check_model_id(model_id)
        ctx = dict(context or {})
        requested_id = model_id
        served_model: ModelConfig | None = None
        variant: str | None = None
        try:
            _check_context(ctx)
            requested = self._active(model_id)
            served_model, variant = ab.assign(
                requested, self.registry, ctx, features if isinstance(features, Mapping) else {}
            )
            served = self._serve_one(
                served_model, features, ctx, _Call(requested_id, variant, start), use_cache=use_cache, explain=explain
            )
        except ModelNotFoundError:
            raise  # no model to attribute it to: recording it would grow a buffer per unknown id
        except HotCRMAIError as exc:
            failed = served_model or self.registry.find(model_id)
            self._record_failure(requested_id, failed, variant, ctx, start, exc)
            raise
        except Exception as exc:  # a provider bug: reported as a failure, raised typed
            failed = served_model or self.registry.find(model_id)
            self._record_failure(requested_id, failed, variant, ctx, start, exc)
            raise PredictionError(
                f"{model_id}: unexpected {type(exc).__name__}: {exc}", model_id=model_id, cause=exc
            ) from exc
        return self._finish(requested_id, variant, ctx, start, served)

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
        results: list[PredictionResult | None] = [None] * len(rows)
        groups: dict[str, tuple[ModelConfig, str | None, list[tuple[int, Any]]]] = {}
        for i, row in enumerate(rows):
            served_model, variant = ab.assign(requested, self.registry, ctx, row if isinstance(row, Mapping) else {})
            groups.setdefault(served_model.key, (served_model, variant, []))[2].append((i, row))
        for model, variant, items in groups.values():
            served_rows = self._serve_many(
                model, [f for _, f in items], ctx, _Call(model_id, variant, start), use_cache=use_cache
            )
            for (i, _), outcome in zip(items, served_rows, strict=False):
                if isinstance(outcome, BaseException):
                    self._record_failure(model_id, model, variant, ctx, start, outcome)
                    results[i] = self._failed_result(model_id, model, variant, start, outcome)
                else:
                    results[i] = self._finish(model_id, variant, ctx, start, outcome)
        return [r for r in results if r is not None]

    # -- one row ---------------------------------------------------------------------------

    def _active(self, model_id: str) -> ModelConfig:
        model = self.registry.get(model_id)
        if model.status != "active":
            raise ModelInactiveError(model.id, model.status)
        return model

    def _cache_key(self, model: ModelConfig, features: Mapping[str, Any], ctx: Mapping[str, Any]) -> str:
        return self.cache.key(
            tenant=ctx.get("tenant"), model_id=model.id, model_version=model.version, features=features
        )

    def _serve_one(
        self,
        model: ModelConfig,
        features: Any,
        ctx: dict[str, Any],
        call: _Call,
        *,
        use_cache: bool,
        explain: bool,
    ) -> _Served:
        key = self._raw_key(model, features, ctx) if use_cache and model.cache_ttl_s > 0 else None
        if key is None:
            return self._compute(model, validate_features(model, features), ctx, call, None, None, explain)

        def lead() -> _Served:
            # the lookup happens inside the flight, so a caller cannot miss just before the leader
            # stores and then call the provider a second time
            hit = self._from_cache(model, self.cache.get(key))
            if hit is not None and self._fresh(model, hit):
                return hit  # these exact features were validated when the answer was stored
            return self._compute(model, validate_features(model, features), ctx, call, key, hit, explain)

        # concurrent identical requests in this process share one lookup and at most one provider call
        served, _shared = self._flights.do(key, lead)
        if explain and served.explanation is None and served.degraded_reason is None:
            clean = validate_features(served.model, features)
            served.explanation = self._explain(served.model, clean, served.output.prediction)
            if served.explanation is not None:
                self._store(key, served.model, served)
        return served

    def _raw_key(self, model: ModelConfig, features: Any, ctx: Mapping[str, Any]) -> str | None:
        """The cache key of the request as given. Answers are stored only for inputs that passed
        validation, so a hit needs no second validation; input with no canonical form (NaN, not a
        mapping) gets no key and is refused by validation with the field-by-field message."""
        if not isinstance(features, Mapping):
            return None
        try:
            return self._cache_key(model, features, ctx)
        except ValidationError:
            return None

    def _compute(
        self,
        model: ModelConfig,
        features: dict[str, Any],
        ctx: dict[str, Any],
        call: _Call,
        key: str | None,
        stale: _Served | None,
        explain: bool,
    ) -> _Served:
        try:
            output = self._call(model, features, ctx)
        except ValidationError:
            raise
        except Exception as exc:
            return self._fallback(model, features, ctx, call, exc, stale)
        served = _Served(model, output, stored_at=time.time())
        if explain:
            served.explanation = self._explain(model, features, output.prediction)
        if key is not None:
            self._store(key, model, served)
        return served

    def _call(self, model: ModelConfig, features: dict[str, Any], ctx: dict[str, Any]) -> PredictionOutput:
        provider, breaker = self.providers.get(model)
        inp = PredictionInput(features=features, context=ctx)
        output, _attempts = call_with_retries(
            lambda: provider.predict(model, inp),
            self.policy,
            breaker=breaker,
            rng=self._rng,
            sleep=self._sleep,
        )
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
        call: _Call,
        cause: BaseException,
        stale: _Served | None,
    ) -> _Served:
        """A degraded answer (fallback model, else a stale cached one), or ``PredictionError``.

        The failing model's outcome is recorded here as a failure when a degraded answer is served;
        when nothing can be served the caller records it (one event per call for the model)."""
        reason = f"{model.id} failed ({type(cause).__name__}: {cause})"
        fb_id = model.fallback_model_id
        if fb_id:
            fallback = self.registry.find(fb_id)
            if fallback is not None and fallback.status == "active" and fallback.id != model.id:
                try:
                    clean = validate_features(fallback, features)
                    output = self._call(fallback, clean, ctx)
                except Exception as exc:  # the fallback failed too: try what is left
                    log.warning("fallback %s for %s failed: %s", fb_id, model.id, exc)
                    self._record_event(
                        call.requested_id, fallback, None, ctx, call.latency_ms(), success=False, error=exc
                    )
                    reason = f"{reason}; fallback {fb_id} failed ({type(exc).__name__})"
                else:
                    self._record_degraded(call, model, ctx, cause, cached=False)
                    return _Served(
                        fallback,
                        output,
                        stored_at=time.time(),
                        degraded_reason=f"{reason}; served by fallback model {fallback.id}",
                    )
            else:
                log.error("fallback model %s of %s is missing or inactive", fb_id, model.id)
        if stale is not None and stale.stored_at is not None:
            age = time.time() - stale.stored_at
            if age <= model.cache_ttl_s + self.settings.stale_if_error_s:
                stale.degraded_reason = f"{reason}; served a cached answer from {age:.0f} s ago"
                self._record_degraded(call, model, ctx, cause, cached=True)
                stale.recorded = True
                return stale
        raise PredictionError(f"{reason}; no fallback available", model_id=model.id, cause=cause) from cause

    def _record_degraded(
        self, call: _Call, model: ModelConfig, ctx: dict[str, Any], cause: BaseException, *, cached: bool
    ) -> None:
        """The failing model's outcome when the caller still gets a (degraded) answer: a failure."""
        self._record_event(
            call.requested_id,
            model,
            call.variant,
            ctx,
            call.latency_ms(),
            success=False,
            error=cause,
            degraded=True,
            cached=cached,
        )

    # -- many rows -------------------------------------------------------------------------

    def _serve_many(
        self, model: ModelConfig, raw_rows: list[Any], ctx: dict[str, Any], call: _Call, *, use_cache: bool
    ) -> list[_Served | BaseException]:
        """Cache hits for rows as given (validated when stored), then validation and the provider for
        the misses; a row that fails validation holds its ValidationError."""
        n = len(raw_rows)
        out: list[_Served | BaseException | None] = [None] * n
        caching = use_cache and model.cache_ttl_s > 0
        keys: list[str | None] = [self._raw_key(model, r, ctx) for r in raw_rows] if caching else [None] * n
        stale: list[_Served | None] = [None] * n
        looked_up = [i for i, k in enumerate(keys) if k is not None]
        if looked_up:
            values = self.cache.get_many([keys[i] for i in looked_up])  # type: ignore[misc]
            for i, raw in zip(looked_up, values, strict=True):
                hit = self._from_cache(model, raw)
                if hit is not None:
                    if self._fresh(model, hit):
                        out[i] = hit
                    else:
                        stale[i] = hit
        rows: list[dict[str, Any]] = [{}] * n
        for i in range(n):
            if out[i] is None:
                try:
                    rows[i] = validate_features(model, raw_rows[i])
                except ValidationError as exc:
                    out[i] = exc
        misses = [i for i, o in enumerate(out) if o is None]
        if misses:
            try:
                provider, breaker = self.providers.get(model)
            except Exception as exc:
                for i in misses:
                    out[i] = exc
                return out  # type: ignore[return-value]
            now = time.time()
            if provider.batches_natively(model):
                inputs = [PredictionInput(features=rows[i], context=ctx) for i in misses]
                try:
                    outputs, _ = call_with_retries(
                        lambda: provider.batch_predict(model, inputs),
                        self.policy,
                        breaker=breaker,
                        rng=self._rng,
                        sleep=self._sleep,
                    )
                    if len(outputs) != len(inputs):
                        raise PredictionError(
                            f"provider {model.provider} returned {len(outputs)} results for {len(inputs)} rows",
                            model_id=model.id,
                        )
                    for i, output in zip(misses, outputs, strict=False):
                        out[i] = _Served(model, output, stored_at=now)
                except Exception as exc:  # the batch failed as a whole: each row gets its own verdict
                    log.warning("batch call for %s failed (%s); serving rows one by one", model.id, exc)
                    for i in misses:
                        out[i] = self._row_or_error(model, rows[i], ctx, call, stale[i])
            else:
                workers = max(1, min(self.settings.max_concurrency, len(misses)))
                with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hotcrm-batch") as pool:
                    for i, res in zip(
                        misses,
                        pool.map(lambda i: self._row_or_error(model, rows[i], ctx, call, stale[i]), misses),
                        strict=False,
                    ):
                        out[i] = res
            if caching:
                fresh = [
                    (key, self._cache_value(model, o))
                    for i in misses
                    if (key := keys[i]) is not None and isinstance(o := out[i], _Served) and o.degraded_reason is None
                ]
                if fresh:
                    ttl = self._store_ttl(model)
                    self._safe(lambda: self.cache.set_many([(k, v, ttl) for k, v in fresh]))
        return out  # type: ignore[return-value]

    def _row_or_error(
        self, model: ModelConfig, row: dict[str, Any], ctx: dict[str, Any], call: _Call, stale: _Served | None
    ) -> _Served | BaseException:
        try:
            output = self._call(model, row, ctx)
            return _Served(model, output, stored_at=time.time())
        except ValidationError as exc:
            return exc
        except Exception as exc:
            try:
                return self._fallback(model, row, ctx, call, exc, stale)
            except Exception as final:
                return final

    # -- cache values ----------------------------------------------------------------------

    def _store_ttl(self, model: ModelConfig) -> float:
        return model.cache_ttl_s + max(0.0, self.settings.stale_if_error_s)

    def _cache_value(self, model: ModelConfig, served: _Served) -> dict[str, Any]:
        from hotcrm_ai.converter import unstructure

        return {
            "prediction": served.output.prediction,
            "confidence": served.output.confidence,
            "metadata": served.output.metadata,
            "model_id": model.id,
            "model_version": model.version,
            "stored_at": served.stored_at,
            "explanation": unstructure(served.explanation) if served.explanation is not None else None,
        }

    def _store(self, key: str, model: ModelConfig, served: _Served) -> None:
        if served.degraded_reason is not None:
            return  # degraded answers are never cached
        value = self._cache_value(model, served)
        self._safe(lambda: self.cache.set(key, value, self._store_ttl(model)))

    def _from_cache(self, model: ModelConfig, raw: Any) -> _Served | None:
        """A cached value, or None when absent or not ours (wrong shape is a miss, never an error)."""
        if not isinstance(raw, dict):
            return None
        try:
            if raw.get("model_id") != model.id or raw.get("model_version") != model.version:
                return None
            output = PredictionOutput(
                prediction=raw["prediction"], confidence=raw["confidence"], metadata=raw.get("metadata") or {}
            )
            explanation = None
            if raw.get("explanation") is not None:
                from hotcrm_ai.converter import structure

                explanation = structure(raw["explanation"], Explanation)
            return _Served(model, output, cached=True, stored_at=float(raw["stored_at"]), explanation=explanation)
        except Exception:
            return None

    @staticmethod
    def _fresh(model: ModelConfig, served: _Served) -> bool:
        return served.stored_at is not None and time.time() - served.stored_at <= model.cache_ttl_s

    # -- explanations ----------------------------------------------------------------------

    def _explain(self, model: ModelConfig, features: dict[str, Any], prediction: Any) -> Explanation | None:
        if self.explainer is None:
            return None
        try:
            provider, _ = self.providers.get(model)
            return self.explainer.explain_model(model, features, provider, prediction=prediction)
        except HotCRMAIError as exc:
            log.info("no explanation for %s: %s", model.id, exc)
            return None

    # -- results and events ----------------------------------------------------------------

    def _finish(
        self, requested_id: str, variant: str | None, ctx: dict[str, Any], start: float, served: _Served
    ) -> PredictionResult:
        latency = (time.perf_counter() - start) * 1000
        prediction_id = os.urandom(16).hex()
        metadata = dict(served.output.metadata)
        metadata.setdefault("provider", served.model.provider)
        result = PredictionResult(
            prediction=served.output.prediction,
            confidence=served.output.confidence,
            model_id=served.model.id,
            model_version=served.model.version,
            requested_model_id=requested_id,
            variant=variant,
            cached=served.cached,
            degraded=served.degraded_reason is not None,
            degraded_reason=served.degraded_reason,
            latency_ms=latency,
            prediction_id=prediction_id,
            metadata=metadata,
            explanation=served.explanation,
        )
        if not served.recorded:
            self._record_event(
                requested_id,
                served.model,
                variant,
                ctx,
                latency,
                success=True,
                output=served.output,
                cached=served.cached,
                prediction_id=prediction_id,
                degraded_reason=served.degraded_reason,
                prediction=served.output.prediction,
            )
        return result

    def _failed_result(
        self, requested_id: str, model: ModelConfig | None, variant: str | None, start: float, exc: BaseException
    ) -> PredictionResult:
        return PredictionResult(
            prediction=None,
            confidence=0.0,
            model_id=model.id if model else requested_id,
            model_version=model.version if model else "",
            requested_model_id=requested_id,
            variant=variant,
            latency_ms=(time.perf_counter() - start) * 1000,
            error=ErrorInfo.from_exception(exc),
            exception=exc,
        )

    def _record_failure(
        self,
        requested_id: str,
        model: ModelConfig | None,
        variant: str | None,
        ctx: Mapping[str, Any],
        start: float,
        exc: BaseException,
    ) -> None:
        latency = (time.perf_counter() - start) * 1000
        self._record_event(requested_id, model, variant, ctx, latency, success=False, error=exc)

    def _record_event(
        self,
        requested_id: str,
        model: ModelConfig | None,
        variant: str | None,
        ctx: Mapping[str, Any],
        latency_ms: float,
        *,
        success: bool,
        output: PredictionOutput | None = None,
        error: BaseException | None = None,
        cached: bool = False,
        degraded: bool = False,
        prediction_id: str = "",
        degraded_reason: str | None = None,
        prediction: Any = None,
    ) -> None:
        usage = output.metadata.get("usage") if output is not None else None
        event = PredictionEvent(
            model_id=model.id if model else requested_id,
            requested_model_id=requested_id,
            model_version=model.version if model else "",
            timestamp=time.time(),
            latency_ms=latency_ms,
            success=success,
            confidence=output.confidence if output is not None else 0.0,
            cached=cached,
            degraded=degraded or degraded_reason is not None,
            variant=variant,
            provider=model.provider if model else None,
            tenant=ctx.get("tenant"),
            prediction_id=prediction_id,
            error=str(error)[:500] if error is not None else None,
            error_type=type(error).__name__ if error is not None else None,
            degraded_reason=degraded_reason,
            usage={k: v for k, v in usage.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
            if isinstance(usage, Mapping)
            else {},
            prediction=prediction,
        )
        try:
            self.monitor.record(event)
        except Exception:  # the monitor isolates sinks; this guards against the monitor itself
            log.exception("monitor failed to record an event")

    # -- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _safe(fn: Callable[[], Any]) -> None:
        try:
            fn()
        except Exception:  # the cache manager absorbs faults; this guards against the manager itself
            log.exception("cache write failed")
