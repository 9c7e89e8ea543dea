"""Typed errors: one base class, and a subclass per thing a caller can act on.

Modelled on redis-py and botocore: catch ``HotCRMAIError`` for everything, or a narrow class for one
failure. Provider errors carry ``retryable`` so the prediction service decides retries from the type,
never from a message. Messages never contain credentials (providers redact before raising).

``exit_code`` is what the command line exits with for each class: 2 for something the user can fix
(input, model id, file, option, configuration), 1 for a failure of the system or a remote service.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs


class HotCRMAIError(Exception):
    """Base class of every error this package raises on purpose."""

    exit_code: int = 1


class ConfigError(HotCRMAIError):
    """The configuration (file, env var or arguments) is invalid; the message names the key."""

    exit_code = 2


class PluginError(HotCRMAIError):
    """A plugin failed to load or registered something invalid (fatal only in strict mode)."""

    exit_code = 2


class RegistryError(HotCRMAIError):
    """A model configuration or registry operation is invalid."""

    exit_code = 2


class RegistryConflictError(RegistryError):
    """Another process changed the model since this one last read it; nothing was written. Re-read
    (``registry.refresh()``) and retry if the change still makes sense."""


class ModelNotFoundError(RegistryError, LookupError):
    def __init__(self, model_id: str, version: str | None = None) -> None:
        self.model_id = model_id
        self.version = version
        where = f"{model_id}@{version}" if version else model_id
        super().__init__(f"Model not found: {where}")


class ModelInactiveError(RegistryError):
    def __init__(self, model_id: str, status: str) -> None:
        self.model_id = model_id
        self.status = status
        super().__init__(f"Model is not active: {model_id} (status: {status})")


@attrs.frozen
class FieldError:
    """One bad field: where it is, what was expected and what came instead."""

    field: str
    expected: str
    got: str = ""

    def __str__(self) -> str:
        got = f", got {self.got}" if self.got else ""
        return f"{self.field}: expected {self.expected}{got}"


class ValidationError(HotCRMAIError, ValueError):
    """Input does not match a schema. ``errors`` lists every bad field, not just the first."""

    exit_code = 2

    def __init__(self, errors: Sequence[FieldError] | str, *, subject: str = "input") -> None:
        if isinstance(errors, str):
            errors = [FieldError(field=subject, expected=errors)]
        self.errors: list[FieldError] = list(errors)
        self.subject = subject
        # a field named like the subject is not repeated: "Invalid --features: expected valid JSON"
        detail = "; ".join(str(e) if e.field != subject else str(e).removeprefix(f"{e.field}: ") for e in self.errors)
        super().__init__(f"Invalid {subject}: {detail}")


class PredictionError(HotCRMAIError):
    """A prediction could not be served, not even degraded. ``__cause__``/``cause`` is why."""

    def __init__(self, message: str, *, model_id: str | None = None, cause: BaseException | None = None) -> None:
        self.model_id = model_id
        self.cause = cause
        # a configuration or input problem behind the failure is still the user's to fix (2)
        self.exit_code = cause.exit_code if isinstance(cause, HotCRMAIError) else 1
        super().__init__(message)


class ProviderError(HotCRMAIError):
    """A provider call failed. ``retryable`` says whether trying again can help."""

    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        provider: str | None = None,
        status: int | None = None,
        retryable: bool | None = None,
        retry_after: float | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        self.provider = provider
        self.status = status
        if retryable is not None:
            self.retryable = retryable
        self.retry_after = retry_after
        self.details = details or {}
        super().__init__(message)


class ProviderTimeoutError(ProviderError):
    retryable = True


class ProviderConnectionError(ProviderError):
    retryable = True


class ProviderRateLimitError(ProviderError):
    retryable = True


class ProviderServerError(ProviderError):
    retryable = True


class ProviderAuthError(ProviderError):
    """Bad or missing credentials: never retried."""


class ProviderRequestError(ProviderError):
    """The provider refused the request as invalid (4xx other than auth/throttle): never retried."""


class ProviderCapabilityError(ProviderRequestError):
    """The provider does not offer what was asked of it (e.g. structured output): never retried."""


class ProviderModelError(ProviderError):
    """The model behind the endpoint raised (e.g. SageMaker ModelError); carries its message."""


class ProviderResponseError(ProviderError):
    """The reply could not be understood (wrong shape, not JSON, schema mismatch)."""


class CircuitOpenError(ProviderError):
    """The provider's circuit breaker is open: the call was not attempted."""


def error_for_status(status: int, message: str, *, retry_after: float | None = None, **kw: Any) -> ProviderError:
    """The typed error an HTTP status means on any provider's API, for the statuses whose meaning
    does not depend on the vendor: 401/403 auth, 408 timeout, 409 conflict (a concurrent operation
    finished: worth one more try), 429 rate limit, 5xx server, any other a bad request. A plugin
    maps its vendor's own cases first (OpenAI's out-of-credit 429, Azure ML's 424 model error) and
    passes the rest here; ``kw`` goes to the error (``provider``, ``details``)."""
    if status in (401, 403):
        return ProviderAuthError(message, status=status, **kw)
    if status == 408:
        return ProviderTimeoutError(message, status=status, retry_after=retry_after, **kw)
    if status == 409:
        return ProviderRequestError(message, status=status, retryable=True, **kw)
    if status == 429:
        return ProviderRateLimitError(message, status=status, retry_after=retry_after, **kw)
    if status >= 500:
        return ProviderServerError(message, status=status, retry_after=retry_after, **kw)
    return ProviderRequestError(message, status=status, **kw)


class CacheError(HotCRMAIError):
    """A cache backend failed. The cache manager absorbs these; callers of a backend see them."""


class ExplanationError(HotCRMAIError):
    """No explanation could be computed (no applicable explainer, budget too small, non-numeric output)."""

    exit_code = 2


class ReportingError(HotCRMAIError):
    """A natural-language question could not be answered safely."""

    exit_code = 2


class StoreError(HotCRMAIError):
    """The shared store (registry, prediction log, monitor events) failed or cannot be used."""


class StoreUnavailableError(StoreError):
    """The store cannot be reached. Registry writes raise this instead of being lost; predictions
    carry on and events wait in the bounded writer queue."""

    retryable = True


class StoreSchemaError(StoreError):
    """The store's schema is older (run ``hotcrm-ai store upgrade``) or newer (refused) than this
    version of hotcrm-ai knows."""

    exit_code = 2


class DatabaseURLError(ReportingError, ConfigError):
    """``reporting.database_url`` cannot be used: unparsable, no such file, or its driver is not installed."""
