"""The ``azure-ml`` provider: Azure ML managed online endpoints, scored over REST.

Two ways to reach an endpoint, chosen per model:

- direct: a scoring URI (``model.endpoint``, else ``[providers.azure-ml] endpoint``, else
  ``credentials.endpoint``) and a key (``credentials.api_key``) or an Azure AD token;
- by name: ``subscription_id``, ``resource_group``, ``workspace_name`` and an ``endpoint_name`` (model
  ``parameters.endpoint_name`` or provider config); URI and key come from azure-ai-ml (see ``resolve``).

This module imports neither azure nor requests: the plugin registers without paying for them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

import attrs

from hotcrm_ai.descriptors import ProviderSpec
from hotcrm_ai.errors import ProviderAuthError, ProviderError, ProviderResponseError, ValidationError
from hotcrm_ai.options import parse_model_options, parse_options
from hotcrm_ai.provider import BaseMLProvider
from hotcrm_ai.secrets import Secret, mask_url
from hotcrm_ai.types import (
    HealthReport,
    ModelConfig,
    PredictionInput,
    PredictionOutput,
    ProviderConfig,
    masked_endpoint,
)
from hotcrm_ai_azureml import payloads
from hotcrm_ai_azureml.errors import PROVIDER, error_for_status, redact
from hotcrm_ai_azureml.options import AzureMLConfig, AzureMLCredentials, AzureMLModelOptions

log = logging.getLogger(__name__)

AAD_SCOPE = "https://ml.azure.com/.default"
DEFAULT_TIMEOUT_S = 30.0
DEFAULT_MAX_REQUEST_BYTES = 1_000_000  # managed online endpoints refuse bodies over ~1.5 MB; stay clear of it
KEY_NAMES = ("api_key", "apiKey", "key")


def _revealed(secret: Secret | None) -> str | None:
    """A URL option kept as a secret, read when it is used."""
    return None if secret is None else secret.reveal()


def _installed(distribution: str) -> bool:
    """Whether a distribution is installed, without importing it (find_spec would import ``azure``)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        version(distribution)
    except PackageNotFoundError:
        return False
    return True


def _is_url(value: str | None) -> bool:
    return bool(value) and urlsplit(value or "").scheme in ("http", "https") and bool(urlsplit(value or "").netloc)


class _Target:
    """Where one call goes and with what bearer. ``refresh()`` re-fetches a rejected credential once."""

    __slots__ = ("_refresh", "bearer", "deployment", "endpoint_name", "path", "uri")

    def __init__(
        self, uri: str, bearer: str, deployment: str | None, path: str, endpoint_name: str | None, refresh: Any
    ) -> None:
        self.uri = uri
        self.bearer = bearer
        self.deployment = deployment
        self.path = path
        self.endpoint_name = endpoint_name
        self._refresh = refresh

    def refreshable(self) -> bool:
        return self._refresh is not None

    def refreshed(self) -> _Target:
        return self._refresh()

    def describe(self) -> str:
        pinned = f", deployment {self.deployment}" if self.deployment else ""
        name = f"endpoint {self.endpoint_name} at " if self.endpoint_name else ""
        return f"{name}{mask_url(self.uri)}{pinned}"

    def __repr__(self) -> str:
        return f"_Target({self.describe()!r})"


class AzureMLProvider(BaseMLProvider):
    """Scores on Azure ML managed online endpoints; one POST per batch chunk, rows mapped back by position."""

    name: ClassVar[str] = PROVIDER
    native_batch: ClassVar[bool] = True
    options: AzureMLConfig

    def __init__(self, config: ProviderConfig, *, credential: Any = None) -> None:
        super().__init__(config)
        section = f"providers.{config.provider}"
        self.options = parse_options(AzureMLConfig, config.config, section=f"{section}.config")
        creds = parse_options(AzureMLCredentials, config.credentials, section=f"{section}.credentials")
        self._credentials: dict[str, Secret] = {
            k: v for k, v in attrs.asdict(creds, recurse=False).items() if v is not None
        }
        self._credential = credential if credential is not None else self.options.credential
        from hotcrm_ai_azureml.scoring import ScoringClient

        self._http = ScoringClient(pool_size=self.options.pool_size, verify=self.options.verify_tls)
        self._resolver: Any = None
        self._aad: tuple[str, float] | None = None
        self._lock = threading.Lock()

    # ---- configuration -------------------------------------------------------------------------
    def _secret(self, *names: str) -> Secret | None:
        for n in names:
            if n in self._credentials:
                return self._credentials[n]
        return None

    def _workspace_fields(self) -> dict[str, str | None]:
        o = self.options
        return {
            "subscription_id": o.subscription_id,
            "resource_group": o.resource_group,
            "workspace_name": o.workspace_name,
        }

    def _provider_uri(self) -> str | None:
        endpoint = self.config.endpoint_value()
        if endpoint:
            return endpoint
        secret = self._secret("endpoint")
        if secret is not None and secret.is_set():
            return secret.reveal()
        return None

    def _timeout(self, model: ModelConfig | None) -> float:
        """The model's ``timeout_s`` when set (the core's contract), else the configured one, else 30 s."""
        configured = self.options.timeout_s or DEFAULT_TIMEOUT_S
        return float(model.timeout_s) if model is not None and model.timeout_s else configured

    @staticmethod
    def _model_options(model: ModelConfig) -> AzureMLModelOptions:
        """The model's declared parameters (checked at start too); ``ConfigError`` naming the key."""
        return parse_model_options(AzureMLModelOptions, model)

    def _format(self, model: ModelConfig | None) -> payloads.PayloadFormat:
        if model is not None and (chosen := self._model_options(model).payload_format) is not None:
            return payloads.payload_format(chosen, field=f"models[{model.id}].parameters.payload_format")
        return payloads.payload_format(self.options.payload_format, field="providers.azure-ml.config.payload_format")

    def _deployment(self, model: ModelConfig | None) -> str | None:
        if model is not None and self._model_options(model).deployment:
            return self._model_options(model).deployment
        return self.options.deployment

    def _endpoint_name(self, model: ModelConfig | None) -> str | None:
        """``parameters.endpoint_name``, else a ``model.endpoint`` that is a name rather than a URL, else the
        provider's ``endpoint_name``."""
        if model is not None and self._model_options(model).endpoint_name:
            return self._model_options(model).endpoint_name
        if model is not None and model.endpoint and not _is_url(model.endpoint):
            return model.endpoint
        return self.options.endpoint_name

    def problems(self, model: ModelConfig | None = None) -> list[str]:
        """What is missing or wrong for each path, by field name (never a value). Empty when usable."""
        out: list[str] = []
        try:
            self._format(model)
        except ValidationError as exc:
            out.append(str(exc))
        name = self._endpoint_name(model)
        direct_uri = (model.endpoint if model is not None and _is_url(model.endpoint) else None) or self._provider_uri()
        if name and not (model is not None and _is_url(model.endpoint)):
            missing = [k for k, v in self._workspace_fields().items() if not v]
            if missing:
                out.append(f"by-name path (endpoint_name {name}): missing {', '.join(missing)}")
            if not _installed("azure-ai-ml"):
                out.append("by-name path: the azure-ai-ml package is not installed")
        elif direct_uri:
            if not _is_url(direct_uri):
                out.append("direct path: endpoint: expected an http(s) scoring URI")
            if not self._has_direct_credential(model):
                out.append('direct path: missing credentials.api_key (or credentials.token, or config auth = "aad")')
        else:
            out.append(
                "no endpoint: set endpoint (the scoring URI) for the direct path, or endpoint_name with "
                "subscription_id, resource_group and workspace_name for the by-name path"
            )
        return out

    def _has_direct_credential(self, model: ModelConfig | None) -> bool:
        if model is not None and "api_key" in model.parameters:
            return True
        if self.options.auth == "aad":
            return True
        secret = self._secret(*KEY_NAMES, "token")
        return secret is not None and secret.is_set()

    def validate(self) -> bool:
        problems = self.problems()
        for p in problems:
            log.warning("azure-ml provider configuration: %s", p)
        return not problems

    # ---- credentials and targets ------------------------------------------------------------------
    def _credential_object(self) -> Any:
        """An azure TokenCredential: the explicit one, a service principal from credentials, else the
        DefaultAzureCredential chain (env, managed identity, Azure CLI, ...)."""
        if self._credential is not None:
            return self._credential
        ids = [self._secret(n) for n in ("tenant_id", "client_id", "client_secret")]
        if all(s is not None for s in ids):
            from azure.identity import ClientSecretCredential

            tenant, client, secret = (s.reveal() for s in ids if s is not None)
            self._credential = ClientSecretCredential(tenant, client, secret)
        else:
            from azure.identity import DefaultAzureCredential

            self._credential = DefaultAzureCredential(exclude_interactive_browser_credential=True)
        return self._credential

    def _aad_token(self, *, refresh: bool = False) -> str:
        with self._lock:
            if self._aad is None or refresh or time.time() >= self._aad[1] - 60:
                try:
                    token = self._credential_object().get_token(AAD_SCOPE)
                except Exception as exc:
                    raise ProviderAuthError(
                        f"Azure ML: could not get an Azure AD token for {AAD_SCOPE}: {type(exc).__name__}",
                        provider=PROVIDER,
                    ) from None
                self._aad = (token.token, float(token.expires_on))
            return self._aad[0]

    def resolver(self) -> Any:
        """The workspace resolver (by-name path), built on first use."""
        with self._lock:
            if self._resolver is None:
                from hotcrm_ai_azureml.resolve import EndpointResolver, Workspace

                fields = self._workspace_fields()
                missing = [k for k, v in fields.items() if not v]
                if missing:
                    raise ProviderError(
                        f"Azure ML by-name path: missing providers.azure-ml.config {', '.join(missing)}",
                        provider=PROVIDER,
                        retryable=False,
                    )
                ws = Workspace(
                    subscription_id=str(fields["subscription_id"]),
                    resource_group=str(fields["resource_group"]),
                    workspace_name=str(fields["workspace_name"]),
                    cloud=self.options.cloud,
                    resource_manager_url=_revealed(self.options.resource_manager_url),
                )
                self._resolver = EndpointResolver(
                    ws,
                    self._credential_object,
                    timeout_s=self._timeout(None),
                    retry_total=self.options.arm_retry_total,
                    key_ttl_s=self.options.key_ttl_s,
                )
            return self._resolver

    def _direct_bearer(self, model: ModelConfig | None, *, refresh: bool = False) -> tuple[str, bool]:
        """(bearer, refreshable) for the direct path."""
        ref = None if model is None else self._model_options(model).api_key
        if ref is not None:
            return self._reveal(ref, "parameters.api_key"), False
        secret = self._secret(*KEY_NAMES)
        if secret is not None:
            return self._reveal(secret, "credentials.api_key"), False
        token = self._secret("token")
        if token is not None:
            return self._reveal(token, "credentials.token"), False
        if self.options.auth == "aad":
            return self._aad_token(refresh=refresh), True
        raise ProviderAuthError(
            'Azure ML direct path: no credential configured; set credentials.api_key = {env = "NAME"}, '
            'credentials.token, or auth = "aad"',
            provider=PROVIDER,
        )

    @staticmethod
    def _reveal(secret: Secret, field: str) -> str:
        try:
            return secret.reveal()
        except Exception as exc:  # ConfigError naming the variable, never a value
            raise ProviderAuthError(f"Azure ML: {field}: {exc}", provider=PROVIDER) from None

    def target(self, model: ModelConfig | None, *, refresh: bool = False) -> _Target:
        """Where ``model`` is scored: direct when a scoring URI is configured, else by endpoint name."""
        deployment = self._deployment(model)
        model_uri = model.endpoint if model is not None and _is_url(model.endpoint) else None
        name = None if model_uri else self._endpoint_name(model)
        if name:
            resolved = self.resolver().resolve(name, refresh=refresh)
            return _Target(
                resolved.scoring_uri,
                resolved.bearer,
                deployment,
                "by-name",
                name,
                lambda: self.target(model, refresh=True),
            )
        uri = model_uri or self._provider_uri()
        if not uri or not _is_url(uri):
            where = f"models[{model.id}].endpoint" if model is not None else "providers.azure-ml.endpoint"
            raise ProviderError(
                f"Azure ML: {where}: expected an http(s) scoring URI (or an endpoint_name for the by-name path)",
                provider=PROVIDER,
                retryable=False,
            )
        bearer, refreshable = self._direct_bearer(model, refresh=refresh)
        refresh_fn = (lambda: self.target(model, refresh=True)) if refreshable else None
        return _Target(uri, bearer, deployment, "direct", None, refresh_fn)

    # ---- scoring ------------------------------------------------------------------------------------
    def _post(self, target: _Target, body: bytes, timeout_s: float) -> tuple[Any, _Target]:
        def send(t: _Target) -> Any:
            return self._http.request(
                "POST",
                t.uri,
                bearer=t.bearer,
                body=body,
                deployment=t.deployment,
                timeout_s=timeout_s,
                what=t.describe(),
            )

        reply = send(target)
        if reply.status == 401 and target.refreshable():
            # A rotated key or an expired token: fetch it again, once, and repeat this one request.
            target = target.refreshed()
            reply = send(target)
        if not reply.ok:
            raise error_for_status(
                reply.status,
                reply.content,
                reply.headers,
                what=target.describe(),
                secrets=[target.bearer],
                details={"request_id": reply.request_id} if reply.request_id else None,
            )
        return reply, target

    def _default_confidence(self, model: ModelConfig) -> float:
        value = self._model_options(model).default_confidence
        if value is not None:
            return value
        configured = self.options.default_confidence
        return payloads.DEFAULT_CONFIDENCE if configured is None else configured

    def _score(self, model: ModelConfig, rows: Sequence[Mapping[str, Any]], *, batch: bool) -> list[PredictionOutput]:
        fmt = self._format(model)
        encoded = payloads.encode(fmt, rows, feature_names=[f.name for f in model.features], batch=batch)
        max_bytes = int(self.options.max_request_bytes or DEFAULT_MAX_REQUEST_BYTES)
        max_rows = self.options.max_batch_rows
        chunks = encoded.plan(max_bytes, int(max_rows) if max_rows else None)
        default_conf = self._default_confidence(model)
        timeout_s = self._timeout(model)
        target = self.target(model)
        outputs: list[PredictionOutput] = []
        for start, stop in chunks:
            reply, target = self._post(target, encoded.body(start, stop), timeout_s)
            try:
                results = payloads.parse_reply(reply.content, stop - start, default_confidence=default_conf)
            except ProviderResponseError as exc:
                raise ProviderResponseError(
                    redact(f"{exc} ({target.describe()})", [target.bearer]), provider=PROVIDER, status=reply.status
                ) from None
            served = reply.headers.get("azureml-model-deployment") or target.deployment
            for offset, row in enumerate(results):
                meta: dict[str, Any] = {
                    "provider": PROVIDER,
                    "model_id": model.id,
                    "endpoint": mask_url(target.uri),
                    "path": target.path,
                    "latency_ms": reply.latency_ms,
                    "payload_format": fmt,
                    "confidence_source": row.confidence_source,
                }
                if served:
                    meta["deployment"] = served
                if reply.request_id:
                    meta["request_id"] = reply.request_id
                if batch:
                    meta.update(batch_index=start + offset, batch_size=len(rows), requests=len(chunks))
                outputs.append(PredictionOutput(prediction=row.prediction, confidence=row.confidence, metadata=meta))
        return outputs

    def predict(self, model: ModelConfig, inp: PredictionInput) -> PredictionOutput:
        return self._score(model, [inp.features], batch=False)[0]

    def batch_predict(self, model: ModelConfig, inputs: Sequence[PredictionInput]) -> list[PredictionOutput]:
        """All rows in as few requests as the size limit allows (one, usually), results in input order."""
        if not inputs:
            return []
        return self._score(model, [i.features for i in inputs], batch=True)

    # ---- health -------------------------------------------------------------------------------------
    def health_check(self, model: ModelConfig | None = None) -> HealthReport:
        """By name: the endpoint's provisioning state must be Succeeded. Direct: the configured probe
        (``probe = {features = {...}}``) must score, else the scoring host's liveness route must answer 2xx."""
        start = time.perf_counter()
        details: dict[str, Any] = {}
        try:
            name = self._endpoint_name(model)
            if name:
                details.update(path="by-name", endpoint_name=name)
                from hotcrm_ai_azureml.resolve import _state

                state = _state(getattr(self.resolver().endpoint(name), "provisioning_state", None))
                details["provisioning_state"] = state
                healthy = state.lower() == "succeeded"
                error = None if healthy else f"endpoint {name} provisioning state is {state}, expected Succeeded"
            else:
                healthy, error = self._direct_health(details, model)
        except Exception as exc:
            healthy, error = False, f"{type(exc).__name__}: {exc}"
        latency_ms = (time.perf_counter() - start) * 1000.0
        return HealthReport(healthy=healthy, latency_ms=latency_ms, error=error, details=details)

    def _direct_health(self, details: dict[str, Any], model: ModelConfig | None) -> tuple[bool, str | None]:
        target = self.target(model)
        details.update(path="direct", endpoint=mask_url(target.uri))
        probe = self.options.probe
        timeout_s = self._timeout(model)
        if isinstance(probe, Mapping) and isinstance(probe.get("features"), Mapping):
            details["probe"] = "score"
            fmt = payloads.payload_format(
                probe.get("payload_format", self.options.payload_format), field="probe.payload_format"
            )
            encoded = payloads.encode(fmt, [probe["features"]])
            reply, _ = self._post(target, encoded.body(0, 1), timeout_s)
            payloads.parse_reply(reply.content, 1)
            return True, None
        parts = urlsplit(target.uri)
        url = _revealed(self.options.health_url) or urlunsplit((parts.scheme, parts.netloc, "/", "", ""))
        details["probe"] = "liveness"
        reply = self._http.request("GET", url, bearer=target.bearer, timeout_s=timeout_s, what=mask_url(url))
        if reply.ok:
            return True, None
        return False, str(
            error_for_status(reply.status, reply.content, reply.headers, what=mask_url(url), secrets=[target.bearer])
        )

    def close(self) -> None:
        self._http.close()

    def __repr__(self) -> str:
        endpoint = masked_endpoint(self.config.endpoint)
        return f"AzureMLProvider(endpoint={endpoint}, endpoint_name={self._endpoint_name(None)!r})"


def create(config: ProviderConfig) -> AzureMLProvider:
    return AzureMLProvider(config)


def provider_spec() -> ProviderSpec:
    return ProviderSpec(
        name=PROVIDER,
        factory=create,
        options=AzureMLConfig,
        model_options=AzureMLModelOptions,
        description="Azure ML managed online endpoints (scoring URI + key, or workspace + endpoint name)",
    )
