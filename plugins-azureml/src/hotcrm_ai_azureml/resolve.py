"""The by-name path: workspace + endpoint name -> scoring URI and key, through azure-ai-ml's MLClient.

``azure.ai.ml`` takes 1-2 s to import, so it is imported here and only here, the first time an endpoint is
resolved. Results are cached per endpoint name (keys until a 401 or ``key_ttl_s``; Azure ML tokens until
shortly before they expire), and resolution happens under a lock so a burst of first calls makes one
round of ARM requests, not one per thread.

ARM and the MLClient's own retry policy: we pass ``retry_total=0`` by default because the prediction
service owns retries; ``AZUREML_DEV_URL_MFE`` (honoured by MLClient) or ``resource_manager_url`` point the
management calls somewhere other than https://management.azure.com (a sovereign cloud, Azure Stack, a test).
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import attrs

from hotcrm_ai.errors import (
    ProviderAuthError,
    ProviderConnectionError,
    ProviderError,
    ProviderRateLimitError,
    ProviderRequestError,
    ProviderServerError,
    ProviderTimeoutError,
)
from hotcrm_ai_azureml.errors import PROVIDER, parse_retry_after, redact

_CLOUD_ENV = "AZUREML_CURRENT_CLOUD"  # MLClient writes it as a side effect; we put it back
_TOKEN_MARGIN_S = 60.0


@attrs.frozen
class ResolvedEndpoint:
    """What scoring needs. ``bearer`` is excluded from repr so a log line cannot carry it."""

    name: str
    scoring_uri: str
    auth_mode: str
    bearer: str = attrs.field(repr=False)
    provisioning_state: str
    resolved_at: float
    expires_at: float | None = None

    def fresh(self, now: float) -> bool:
        return self.expires_at is None or now < self.expires_at


@attrs.frozen
class Workspace:
    subscription_id: str
    resource_group: str
    workspace_name: str
    cloud: str | None = None
    resource_manager_url: str | None = None

    def describe(self) -> str:
        return f"workspace {self.workspace_name} (resource group {self.resource_group})"


def _state(value: Any) -> str:
    """provisioning_state comes back as an enum in some SDK versions, a string in others."""
    value = getattr(value, "value", value)
    return str(value) if value is not None else "Unknown"


def map_azure_error(exc: BaseException, what: str, secrets: list[str | None] | None = None) -> ProviderError:
    """azure-core / azure-ai-ml exceptions -> our typed errors (never retried here; the core decides)."""
    from azure.core import exceptions as az

    text = redact(" ".join(str(getattr(exc, "message", None) or exc).split())[:300], secrets or [])
    status = getattr(exc, "status_code", None)
    response = getattr(exc, "response", None)
    headers = dict(getattr(response, "headers", None) or {})
    retry_after = parse_retry_after(headers) if headers else None
    kw: dict[str, Any] = {"provider": PROVIDER, "status": status}
    message = f"Azure ML endpoint resolution failed ({what}): {text}"
    if isinstance(exc, az.ClientAuthenticationError) or status in (401, 403):
        return ProviderAuthError(f"{message}; check the Azure credential and its role on the workspace", **kw)
    if isinstance(exc, az.ResourceNotFoundError) or status == 404:
        return ProviderRequestError(
            f"{message}; check subscription_id, resource_group, workspace_name, endpoint_name", **kw
        )
    if status == 429:
        return ProviderRateLimitError(message, retry_after=retry_after, **kw)
    if status == 408:
        return ProviderTimeoutError(message, retry_after=retry_after, **kw)
    if status is not None and status >= 500:
        return ProviderServerError(message, retry_after=retry_after, **kw)
    if isinstance(exc, az.ServiceResponseTimeoutError | az.ServiceRequestTimeoutError):
        return ProviderTimeoutError(message, **kw)
    if isinstance(exc, az.ServiceRequestError | az.ServiceResponseError):
        return ProviderConnectionError(message, **kw)
    if isinstance(exc, az.HttpResponseError):
        return ProviderRequestError(message, **kw)
    if isinstance(exc, az.AzureError):
        return ProviderConnectionError(message, **kw)
    return ProviderError(message, retryable=False, **kw)


class EndpointResolver:
    """Resolves and caches endpoints of one workspace. Thread-safe."""

    def __init__(
        self,
        workspace: Workspace,
        credential_factory: Callable[[], Any],
        *,
        timeout_s: float = 30.0,
        retry_total: int = 0,
        key_ttl_s: float | None = None,
    ) -> None:
        self.workspace = workspace
        self._credential_factory = credential_factory
        self._timeout_s = timeout_s
        self._retry_total = retry_total
        self._key_ttl_s = key_ttl_s
        self._client: Any = None
        self._cache: dict[str, ResolvedEndpoint] = {}
        self._lock = threading.RLock()
        self.resolutions = 0  # how many times ARM was asked (observability and tests)

    def _client_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "enable_telemetry": False,
            "show_progress": False,
            "retry_total": self._retry_total,
            "connection_timeout": min(self._timeout_s, 10.0),
            "read_timeout": self._timeout_s,
        }
        ws = self.workspace
        if ws.resource_manager_url:
            url = ws.resource_manager_url.rstrip("/") + "/"
            kwargs["cloud"] = "hotcrm-" + hashlib.sha256(url.encode()).hexdigest()[:12]
            kwargs["cloud_metadata"] = {
                "azure_portal": "https://portal.azure.com/",
                "resource_manager": url,
                "active_directory": "https://login.microsoftonline.com/",
                "aml_resource_id": "https://ml.azure.com/",
                "storage_endpoint": "core.windows.net",
                "registry_discovery_endpoint": url,
            }
        elif ws.cloud:
            kwargs["cloud"] = ws.cloud
        return kwargs

    def client(self) -> Any:
        """The MLClient, built once (this is where azure.ai.ml is imported)."""
        with self._lock:
            if self._client is None:
                from azure.ai.ml import MLClient

                ws = self.workspace
                credential = self._credential_factory()
                previous = os.environ.get(_CLOUD_ENV)
                try:
                    self._client = MLClient(
                        credential, ws.subscription_id, ws.resource_group, ws.workspace_name, **self._client_kwargs()
                    )
                except Exception as exc:
                    raise map_azure_error(exc, f"MLClient for {ws.describe()}") from None
                finally:
                    # MLClient records its cloud in the process environment; leave the process as we found it.
                    if previous is None:
                        os.environ.pop(_CLOUD_ENV, None)
                    else:
                        os.environ[_CLOUD_ENV] = previous
            return self._client

    def endpoint(self, name: str) -> Any:
        """A fresh ``online_endpoints.get(name)`` (used by health checks: no cache)."""
        client = self.client()
        try:
            return client.online_endpoints.get(name)
        except Exception as exc:
            raise map_azure_error(exc, f"get endpoint {name} in {self.workspace.describe()}") from None

    def resolve(self, name: str, *, refresh: bool = False) -> ResolvedEndpoint:
        """Scoring URI + key (or token) for an endpoint; cached, re-resolved when ``refresh`` or stale."""
        now = time.time()
        cached = self._cache.get(name)
        if cached is not None and not refresh and cached.fresh(now):
            return cached
        with self._lock:
            cached = self._cache.get(name)
            if cached is not None and cached.fresh(time.time()) and not (refresh and cached.resolved_at <= now):
                return cached  # another thread refreshed it while we waited
            resolved = self._fetch(name)
            self._cache[name] = resolved
            return resolved

    def invalidate(self, name: str) -> None:
        with self._lock:
            self._cache.pop(name, None)

    def _fetch(self, name: str) -> ResolvedEndpoint:
        ep = self.endpoint(name)
        client = self.client()
        try:
            keys = client.online_endpoints.get_keys(name)
        except Exception as exc:
            raise map_azure_error(exc, f"get keys of endpoint {name}") from None
        self.resolutions += 1
        scoring_uri = getattr(ep, "scoring_uri", None)
        if not scoring_uri:
            raise ProviderRequestError(
                f"Azure ML endpoint {name}: expected a scoring URI, got none (provisioning state "
                f"{_state(getattr(ep, 'provisioning_state', None))})",
                provider=PROVIDER,
            )
        now = time.time()
        bearer, expires_at = _bearer(keys)
        if not bearer:
            raise ProviderAuthError(f"Azure ML endpoint {name}: expected a key or token, got none", provider=PROVIDER)
        if expires_at is not None:
            expires_at -= _TOKEN_MARGIN_S
        elif self._key_ttl_s:
            expires_at = now + self._key_ttl_s
        return ResolvedEndpoint(
            name=name,
            scoring_uri=str(scoring_uri),
            auth_mode=str(getattr(ep, "auth_mode", "") or "key"),
            bearer=bearer,
            provisioning_state=_state(getattr(ep, "provisioning_state", None)),
            resolved_at=now,
            expires_at=expires_at,
        )


def _bearer(keys: Any) -> tuple[str | None, float | None]:
    """Key auth -> primary (else secondary) key; aml_token / aad_token -> the token and its expiry."""
    primary = getattr(keys, "primary_key", None) or getattr(keys, "secondary_key", None)
    if primary:
        return str(primary), None
    token = getattr(keys, "access_token", None)
    if token:
        expiry = getattr(keys, "expiry_time_utc", None)
        return str(token), float(expiry) if expiry else None
    return None, None
