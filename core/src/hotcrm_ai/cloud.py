"""``AICloud``: the one object that assembles registry, providers, cache, monitor, explainer and
reporting from installed plugins plus configuration. No process-global state: two instances in one
process share nothing unless configured to (e.g. the same Redis)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, overload

from hotcrm_ai.config import Settings, load_settings
from hotcrm_ai.config_check import check_model_parameters, check_settings
from hotcrm_ai.errors import ConfigError, ModelInactiveError, ModelNotFoundError, RegistryError
from hotcrm_ai.plugins import PluginHost
from hotcrm_ai.prediction.guarded import counted
from hotcrm_ai.prediction.providers import ProviderPool
from hotcrm_ai.prediction.serving import PredictionService
from hotcrm_ai.prediction.validation import validate_features
from hotcrm_ai.provider import BaseMLProvider
from hotcrm_ai.registry import ModelRegistry
from hotcrm_ai.types import Explanation, HealthReport, ModelConfig, PredictionResult

if TYPE_CHECKING:
    from hotcrm_ai.cache.manager import CacheManager
    from hotcrm_ai.explain.compare import Comparison
    from hotcrm_ai.explain.linear_batch import BatchExplanation
    from hotcrm_ai.explain.linear_row import CompiledLinear, RowExplainer
    from hotcrm_ai.explain.service import ExplainabilityService
    from hotcrm_ai.interfaces import Store
    from hotcrm_ai.monitor.health import HealthStatus
    from hotcrm_ai.monitor.monitor import PerformanceMonitor
    from hotcrm_ai.monitor.outcomes import Outcome
    from hotcrm_ai.monitor.stats import ModelStats
    from hotcrm_ai.prediction.structured import StructuredCalls
    from hotcrm_ai.progress import Progress
    from hotcrm_ai.reporting.engine import ReportingEngine, ReportResult
    from hotcrm_ai.store.link import StoreLink

log = logging.getLogger("hotcrm_ai")

PROGRESS_CHUNK = 1000  # rows per step of batch_predict when a progress display is asked for


class AICloud:
    """The facade. ``AICloud.from_config()`` for applications, ``AICloud(Settings(...), ...)`` for code
    and tests (``load_entrypoints=False`` plus ``plugins=[...]`` gives a fully isolated instance)."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        plugins: Sequence[object] = (),
        load_entrypoints: bool = True,
        env: Mapping[str, str] | None = None,
    ) -> None:
        from hotcrm_ai.cache.manager import CacheManager
        from hotcrm_ai.explain.service import ExplainabilityService
        from hotcrm_ai.monitor.monitor import PerformanceMonitor

        self.settings = settings or Settings()
        self.plugins = PluginHost(plugins=plugins, load_entrypoints=load_entrypoints, env=env)
        check_settings(self.settings, self.plugins)
        self.registry: ModelRegistry
        self.store, self.registry, link = self._build_store()
        self._register_models()
        if link is not None:
            from hotcrm_ai.store import assemble

            assemble.connect(link)  # unreachable: said once, retried in the background
            self.monitor: PerformanceMonitor = assemble.build_monitor(
                self._build_sinks(), self.settings.monitor, link, self.settings.store, self.registry
            )
        else:
            self.monitor = PerformanceMonitor(self._build_sinks(), self.settings.monitor)
        from hotcrm_ai.store.predictions import PredictionLog

        self.predictions = PredictionLog(link, self.monitor if link is not None else None)  # type: ignore[arg-type]
        self.cache: CacheManager = CacheManager.from_specs(self.plugins.cache_backends, self.settings.cache)
        self.explainer: ExplainabilityService = ExplainabilityService(self.plugins.explainers, self.settings.explain)
        self.providers = ProviderPool(self.plugins.providers, self.settings)
        self.service = PredictionService(
            self.registry, self.providers, self.cache, self.monitor, self.settings.prediction, self.explainer
        )

    @classmethod
    def from_config(cls, path: str | None = None, **kwargs: Any) -> AICloud:
        """``path``, else ``$HOTCRM_AI_CONFIG``, else ``./hotcrm-ai.toml``, else embedded defaults."""
        return cls(load_settings(path), **kwargs)

    # -- assembly --------------------------------------------------------------------------

    def _register_models(self) -> None:
        """Plugin models, then the configuration's (already checked: a bad one stopped the start).

        A plugin model whose parameters its provider refuses is left out with a warning. A stored
        model (registry file or store, possibly written by another process) is only warned about:
        its provider refuses it, with the same message, when it is used."""
        for model in self.registry.list(all_versions=True):
            try:
                check_model_parameters(model, self.plugins)
            except ConfigError as exc:
                log.warning("stored model %s: %s", model.key, exc)
        sources = [(f"plugin:{self.plugins.model_owner(m)}", m) for m in self.plugins.models]
        sources += [("config", m) for m in self.settings.models]
        for actor, model in sources:
            if actor != "config":
                try:
                    check_model_parameters(model, self.plugins)
                except ConfigError as exc:
                    log.warning("model %s from %s not registered: %s", model.key, actor, exc)
                    continue
            if actor == "config" and self.registry.find(model.id, model.version) is not None:
                existing = self.registry.get(model.id, model.version)
                if existing in self.plugins.models:  # the deployment's file wins over a plugin's default
                    self.registry.unregister(model.id, version=model.version, actor=actor)
            try:
                self.registry.register(model, actor=actor, persist=False)
            except RegistryError as exc:
                log.warning("model %s from %s not registered: %s", model.key, actor, exc)

    def _build_store(self) -> tuple[Store | None, ModelRegistry, StoreLink | None]:
        """``[store] url = "memory"``: per-process registry and monitor; else the store-backed ones."""
        from hotcrm_ai.store.urls import is_memory

        if is_memory(self.settings.store.url):
            return None, ModelRegistry(self.settings.registry.path), None
        from hotcrm_ai.store import assemble

        store = assemble.build_store(self.plugins.stores, self.settings.store)
        registry, link = assemble.build_registry(store, self.settings.registry.path)
        return store, registry, link

    def _build_sinks(self) -> list[Any]:
        sinks = []
        names = list(dict.fromkeys(self.settings.monitor.sinks))
        for name in names:
            spec = self.plugins.monitor_sinks.get(name)
            if spec is None:
                installed = ", ".join(sorted(self.plugins.monitor_sinks)) or "none"
                raise ConfigError(f"[monitor] sinks: no sink named {name!r} is installed (installed: {installed})")
            options = self.settings.monitor.sink_options.get(name, {})
            try:
                sinks.append(spec.factory(options))
            except Exception as exc:
                raise ConfigError(f"[monitor] sink {name}: could not be built: {type(exc).__name__}: {exc}") from exc
        return sinks

    # -- predictions -----------------------------------------------------------------------

    def predict(
        self,
        model_id: str,
        features: Mapping[str, Any],
        *,
        context: Mapping[str, Any] | None = None,
        use_cache: bool = True,
        explain: bool = False,
    ) -> PredictionResult:
        """One prediction. ``context``: ``tenant`` (cache isolation), ``subject`` (sticky A/B key)."""
        result = self.service.predict(model_id, features, context=context, use_cache=use_cache, explain=explain)
        if self.settings.store.log_features and self.store is not None:
            self.monitor.log_features(result.prediction_id, result.model_id, features)  # type: ignore[attr-defined]
        return result

    def batch_predict(
        self,
        model_id: str,
        rows: Sequence[Mapping[str, Any]],
        *,
        context: Mapping[str, Any] | None = None,
        use_cache: bool = True,
        progress: Progress = None,
    ) -> list[PredictionResult]:
        """One result per row in input order; failed rows carry ``error`` instead of raising.

        ``progress``: ``True`` shows a bar when standard error is a terminal (silent otherwise), or pass
        ``progress(done, total)``; rows then go in chunks of ``PROGRESS_CHUNK`` so it can advance."""
        if not progress:
            results = self.service.batch_predict(model_id, rows, context=context, use_cache=use_cache)
        else:
            from hotcrm_ai.progress import reporter

            rows = list(rows)
            bar = reporter(progress, len(rows))
            results = []
            try:
                for begin in range(0, len(rows), PROGRESS_CHUNK):
                    chunk = rows[begin : begin + PROGRESS_CHUNK]
                    results += self.service.batch_predict(model_id, chunk, context=context, use_cache=use_cache)
                    bar.advance(len(chunk))
            finally:
                bar.close()
        if self.settings.store.log_features and self.store is not None:
            for row, result in zip(rows, results, strict=False):
                if result.ok:
                    self.monitor.log_features(result.prediction_id, result.model_id, row)  # type: ignore[attr-defined]
        return results

    def score(
        self,
        model_id: str,
        data: Any,
        *,
        context: Mapping[str, Any] | None = None,
        progress: Progress = None,
        **options: Any,
    ) -> Any:
        """Score a whole table column-wise: a ``pyarrow.Table`` (input row order) with one column per
        top-level prediction field, ``confidence``, ``model_id``, ``model_version``, ``variant`` and
        ``error`` (the row's validation or model error; its other columns null). ``data``: Arrow table
        or record batch, pandas DataFrame, or mapping of columns. Not cached; one monitor record per
        chunk. ``progress``: ``True`` for a bar on a terminal, or ``progress(done, total)``.
        ``options``: ``chunk_rows``, ``keep`` (columns copied through), ``subject`` (column of sticky
        A/B keys), ``workers``. Needs ``hotcrm-ai[score]`` (pyarrow)."""
        from hotcrm_ai.scoring.table import score_table

        return score_table(self, model_id, data, context=context, progress=progress, **options)

    def record_outcome(self, prediction_id: str, actual: Any, *, model_id: str | None = None) -> Outcome:
        """Report the true outcome of an earlier prediction; feeds accuracy (labels) or MAE (values).

        Classification and NLP answers are scored as labels, regression and forecasts as values, so
        integer classes are not mistaken for quantities; ``model_id`` picks the rule when given."""
        kind = None
        if model_id is not None:
            mtype = self.registry.get(model_id).type
            kind = "value" if mtype in ("regression", "forecasting") else "label"
        return self.monitor.record_outcome(prediction_id, actual, kind=kind)

    def provider_for(self, model: ModelConfig | str) -> BaseMLProvider:
        if isinstance(model, str):
            model = self.registry.get(model)
        return self.providers.get(model)[0]

    # -- explanations ----------------------------------------------------------------------

    def explain(self, model_id: str, features: Mapping[str, Any], *, method: str | None = None) -> Explanation:
        """Shapley-value attributions for one input (computed fresh; not served from the cache)."""
        model = self._active(model_id)
        clean = validate_features(model, features)
        if method in (None, "linear") and model.explainer in (None, "linear"):
            compiled = self.explainer.compiled_linear(model, clean, self.providers.get(model)[0])
            if compiled is not None:  # the closed form: no provider call, nothing to guard
                try:
                    exp = compiled.row(clean).explanation()
                except Exception:
                    self.monitor.record_explanation(model.id, None, failed=True)
                    raise
                self.monitor.record_explanation(model.id, "linear")
                return exp
        provider = self.service.scoring_provider(model)
        return counted(
            self.monitor,
            model,
            provider,
            lambda: self.explainer.explain_model(model, clean, provider, method=method, validated=True),
        )

    def explain_batch(
        self, model_id: str, rows: Sequence[Mapping[str, Any]] | Mapping[str, Sequence[Any]]
    ) -> BatchExplanation:
        """Closed-form linear attributions of many rows in one vectorised pass (columnar result): a list
        of rows, or a table as columns (field -> list or numpy array). Rows are checked as a table (same
        fields in each) and by the model's own encoder column by column, not one by one; a bad value is
        a ``ValidationError`` (the shipped models name it as ``rows[i].field``)."""
        model = self._active(model_id)
        try:
            batch = self.explainer.explain_batch(model, rows, self.provider_for(model))
        except Exception:
            self.monitor.record_explanation(model.id, None, failed=True)
            raise
        self.monitor.record_explanation(model.id, "linear", rows=len(batch))
        return batch

    def linear_explainer(self, model_id: str) -> RowExplainer:
        """A compiled explainer for one linear model: ``explain = ai.linear_explainer(id)``, then
        ``explain(row)`` gives a ``LinearRow`` (log-odds and probability-point contributions at once,
        ``.explanation()`` / ``.text`` on demand). The same numbers as ``explain``, without building
        the full result for rows whose numbers are all that is needed. ``ExplanationError`` when the
        model's provider gives no logit-link coefficients."""
        from hotcrm_ai.errors import ExplanationError
        from hotcrm_ai.explain.linear_row import RowExplainer

        model = self._active(model_id)
        linear = self.provider_for(model).linear_model(model)
        if linear is None or linear.link != "logit":
            raise ExplanationError(f"model {model.id}: its provider gives no logit-link coefficients; use explain")
        record = self.monitor.record_explanation

        def compile_for(m: ModelConfig, fields: tuple[str, ...]) -> CompiledLinear | None:
            return self.explainer.compiled_linear(m, fields, self.provider_for(m))

        return RowExplainer(model.id, self._active, compile_for, lambda mid: record(mid, "linear"))

    def compare(self, model_id: str, a: Mapping[str, Any], b: Mapping[str, Any]) -> Comparison:
        """How two inputs' explanations differ, feature by feature."""
        model = self._active(model_id)
        clean_a, clean_b = validate_features(model, a), validate_features(model, b)
        provider = self.service.scoring_provider(model)
        return counted(
            self.monitor,
            model,
            provider,
            lambda: self.explainer.compare(model, clean_a, clean_b, provider, validated=True),
            parts=lambda c: (c.explanation1, c.explanation2),
        )

    # -- monitoring ------------------------------------------------------------------------

    @overload
    def stats(self, model_id: str, *, window_s: float | None = None) -> ModelStats | None: ...
    @overload
    def stats(self, model_id: None = None, *, window_s: float | None = None) -> dict[str, ModelStats]: ...
    def stats(
        self, model_id: str | None = None, *, window_s: float | None = None
    ) -> ModelStats | dict[str, ModelStats] | None:
        """One model's statistics (None before its first event), else every model's by id; ``id@alias``
        names the model the alias points at."""
        if model_id is not None and "@" in model_id:
            model_id = self.registry.resolve(model_id)[0]
        return (
            self.monitor.stats(model_id, window_s=window_s) if model_id else self.monitor.all_stats(window_s=window_s)
        )

    @overload
    def health(self, model_id: str) -> HealthStatus: ...
    @overload
    def health(self, model_id: None = None) -> dict[str, HealthStatus]: ...
    def health(self, model_id: str | None = None) -> HealthStatus | dict[str, HealthStatus]:
        """One model's health, else every registered model's by id."""
        if model_id is not None:
            if model_id not in self.registry and model_id not in self.monitor.model_ids():
                raise ModelNotFoundError(model_id)
            model_id = self.registry.resolve(model_id)[0] if "@" in model_id else model_id
            return self.monitor.health(model_id)
        return {m.id: self.monitor.health(m.id) for m in self.registry.list()}

    def provider_health(self, model_id: str) -> HealthReport:
        """Probe the provider serving a model, for that model's endpoint."""
        model = self.registry.get(model_id)
        return self.provider_for(model).health_check(model=model)

    # -- reporting -------------------------------------------------------------------------

    @cached_property
    def reporting(self) -> ReportingEngine:
        from hotcrm_ai.reporting.engine import ReportingEngine

        return ReportingEngine(self.settings.reporting, self.plugins.translators, models=self.structured)

    @cached_property
    def structured(self) -> StructuredCalls:
        """Structured-output calls to registered models (the ``llm`` translator uses them)."""
        from hotcrm_ai.prediction.structured import StructuredCalls

        return StructuredCalls(self.registry, self.providers, self.monitor, self.settings.prediction)

    def ask(
        self,
        question: str,
        *,
        now: date | datetime | None = None,
        context: Mapping[str, Any] | None = None,
        limit: int = 100,
        narrative: bool = True,
        tenant: str | None = None,
        all_tenants: bool = False,
    ) -> ReportResult:
        """Answer a natural-language analytics question from the CRM database (read-only). With a
        tenant column configured, ``tenant`` is required unless ``all_tenants=True``."""
        return self.reporting.ask(
            question,
            now=now,
            context=context,
            limit=limit,
            narrative=narrative,
            tenant=tenant,
            all_tenants=all_tenants,
        )

    def query(self, metrics: Any, **kwargs: Any) -> Any:
        """The governed metrics API: ``query(metrics=[...], group_by=[...], time={...}, filters=[...],
        order_by=[...], limit=..., tenant=...)``, compiled and run exactly like ``ask`` (see docs/reporting.md)."""
        return self.reporting.query(metrics, **kwargs)

    # -- lifecycle -------------------------------------------------------------------------

    def _active(self, model_id: str) -> ModelConfig:
        model = self.registry.get(model_id)
        if model.status != "active":
            raise ModelInactiveError(model.id, model.status)
        return model

    def close(self) -> None:
        self.providers.close()
        closers = [self.cache.close, self.monitor.close] + ([self.store.close] if self.store is not None else [])
        for closer in closers:
            try:
                closer()
            except Exception:
                log.exception("error while closing")
        if "reporting" in self.__dict__:
            close = getattr(self.reporting, "close", None)
            if close:
                close()

    def __enter__(self) -> AICloud:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"AICloud(models={len(self.registry)}, providers={sorted(self.plugins.providers)}, "
            f"cache={self.settings.cache.backend!r}, config={self.settings.source!r})"
        )
