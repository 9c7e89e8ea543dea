"""``BaseMLProvider``: the provider interface (validate, predict, batch_predict, health_check,
problems), plus the shared batch default."""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, ClassVar

from hotcrm_ai.types import (
    HealthReport,
    ModelConfig,
    PredictionInput,
    PredictionOutput,
    ProviderConfig,
    masked_endpoint,
)

if TYPE_CHECKING:
    from hotcrm_ai.interfaces import Attribution, LinearModel
    from hotcrm_ai.scoring.output import ColumnOutput


class BaseMLProvider(abc.ABC):
    """Serve predictions for the models whose ``provider`` names this provider.

    Implementations raise ``hotcrm_ai.errors.ProviderError`` subclasses (``retryable`` set right) and
    never put credentials in messages. Retries, timeouts-as-policy, caching and fallback are the
    prediction service's job: a provider makes one attempt per call.

    ``native_batch = True`` tells the service that ``batch_predict`` does real vectorised or
    single-request batching, so it sends all cache misses in one call.
    """

    name: ClassVar[str] = ""
    native_batch: ClassVar[bool] = False
    default_concurrency: ClassVar[int] = 8

    #: The provider's declared options (its ``ProviderSpec.options`` class) structured from
    #: ``config.config`` when it was built; None for a provider that declares none.
    options: Any = None

    def __init__(self, config: ProviderConfig) -> None:
        self.config = config

    @abc.abstractmethod
    def validate(self) -> bool:
        """Whether the configuration is complete enough to try calls (no network, no secrets printed)."""

    @abc.abstractmethod
    def predict(self, model: ModelConfig, inp: PredictionInput) -> PredictionOutput:
        """One prediction."""

    def batch_predict(self, model: ModelConfig, inputs: Sequence[PredictionInput]) -> list[PredictionOutput]:
        """Many predictions, in input order. Default: bounded concurrency over ``predict``; the first
        failure propagates (the service retries rows one by one when a batch call fails)."""
        if not inputs:
            return []
        if len(inputs) == 1:
            return [self.predict(model, inputs[0])]
        workers = max(1, min(self.concurrency(), len(inputs)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"hotcrm-{self.name or 'provider'}") as pool:
            return list(pool.map(lambda inp: self.predict(model, inp), inputs))

    def concurrency(self) -> int:
        """How many single calls the default ``batch_predict`` runs at once: the ``max_concurrency`` of
        the provider's declared options (``self.options``, structured when it was built) when they
        set one, else ``default_concurrency``. Never the raw ``config``: what a provider does not
        declare was not checked at start."""
        value = getattr(self.options, "max_concurrency", None)
        usable = isinstance(value, int) and not isinstance(value, bool) and value > 0
        return value if usable else self.default_concurrency  # type: ignore[return-value]

    def predict_columns(self, model: ModelConfig, columns: Mapping[str, Any]) -> ColumnOutput:
        """Optional: answer many rows given as columns, in one vectorised call (``AICloud.score`` and
        uncached ``batch_predict`` use it when a provider overrides it).

        ``columns`` maps each feature to a column of values: a numpy array, a list (where values may be
        missing), or for choice fields a ``hotcrm_ai.scoring.output.Categories`` (codes into the distinct
        values; it reads like a list). From ``AICloud.score``, ``batch_predict`` and the engines it is a
        ``hotcrm_ai.scoring.validate.ValidatedColumns``: every row passed the model's feature checks
        (``validated_for(columns, model)``), so the provider may skip its own, as for a
        ``PredictionInput.validated`` row; any other mapping is a direct call, checked in full.
        Return a ``hotcrm_ai.scoring.output.ColumnOutput`` with the same rows, rows the model refuses
        in its ``errors``. Providers without it are scored through ``batch_predict`` in slices with
        bounded concurrency."""
        raise NotImplementedError(f"provider {self.name or type(self).__name__} has no columnar path")

    def supports_columns(self, model: ModelConfig) -> bool:
        """Whether ``predict_columns`` serves this model (default: whether the class overrides it)."""
        return type(self).predict_columns is not BaseMLProvider.predict_columns

    def batches_natively(self, model: ModelConfig) -> bool:
        """Whether ``batch_predict`` for this model is one real batch call (per model: a provider may
        batch embeddings natively but not chat completions)."""
        return self.native_batch

    @abc.abstractmethod
    def health_check(self, model: ModelConfig | None = None) -> HealthReport:
        """Probe the backing service once; measure latency; never raise.

        ``model``, when given, is the model whose endpoint to probe (a provider serving several
        endpoints checks that one); ``None`` probes what the provider configuration alone names."""

    def problems(self, model: ModelConfig | None = None) -> list[str]:
        """Why the configuration (for ``model``, when given) cannot serve, one reason per line, naming
        fields and never values; empty when usable. No network. The default knows of no problem."""
        return []

    def complete_structured(
        self,
        model: ModelConfig,
        *,
        system: str,
        user: str,
        schema: Mapping[str, Any],
        cache_system: bool = False,
    ) -> PredictionOutput:
        """One chat call whose answer is a JSON object matching ``schema`` (optional capability).

        Used by features that talk to "whichever model is configured", such as the ``llm`` query
        translator. ``system`` holds the instructions, ``user`` the caller's text; ``cache_system`` asks
        the provider to use its API's prompt caching for a long, stable system prompt. The result's
        ``prediction`` is the answer (a dict, already validated against ``schema``) and its metadata
        carries ``usage`` (token counts, cache tokens where the API reports them). A reply that cannot
        be made to match is a non-retryable ``ProviderResponseError``. Providers without structured
        output keep this default, which raises ``ProviderCapabilityError``.
        """
        from hotcrm_ai.errors import ProviderCapabilityError

        raise ProviderCapabilityError(
            f"provider {self.name or type(self).__name__!r} does not offer structured output "
            f"(model {model.id}); configure a model on a provider that does (openai, anthropic)",
            provider=self.name or None,
        )

    def linear_model(self, model: ModelConfig) -> LinearModel | None:
        """Coefficients for closed-form explanations, when the model is linear in some link space."""
        return None

    def attribution(self, model: ModelConfig, features: Mapping[str, Any]) -> Attribution | None:
        """The model's own exact additive account of its output for ``features``, when it has one."""
        return None

    def close(self) -> None:  # noqa: B027 - optional hook with a sensible no-op default
        """Release connections; called when the owning ``AICloud`` closes."""

    def __repr__(self) -> str:
        endpoint = masked_endpoint(self.config.endpoint)
        return f"{type(self).__name__}(provider={self.config.provider!r}, endpoint={endpoint})"
