"""The ``aws-sagemaker`` provider: SageMaker real-time endpoints through boto3's InvokeEndpoint.

This module is imported when the plugin registers, so it must stay cheap: boto3/botocore are
imported by ``SageMakerProvider`` (construction and first call), never at module level.
One attempt per call (botocore retries are off); errors are hotcrm_ai's typed provider errors.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, ClassVar, TypeVar

from hotcrm_ai.descriptors import ProviderSpec
from hotcrm_ai.errors import ConfigError, ProviderAuthError, ProviderError
from hotcrm_ai.provider import BaseMLProvider
from hotcrm_ai.types import HealthReport, ModelConfig, PredictionInput, PredictionOutput, ProviderConfig
from hotcrm_ai_sagemaker import payloads
from hotcrm_ai_sagemaker.settings import SageMakerConfig, SageMakerSettings

log = logging.getLogger("hotcrm_ai.sagemaker")
PROVIDER = "aws-sagemaker"
DEFAULT_READ_TIMEOUT_S = 60.0  # SageMaker gives a container 60 s per invocation
CONTROL_READ_TIMEOUT_S = 10.0  # DescribeEndpoint answers in milliseconds; a health check must not hang
T = TypeVar("T")


class SageMakerProvider(BaseMLProvider):
    """Invokes SageMaker endpoints. ``native_batch``: models with a ``batch_format`` get many rows per
    invocation (split by the 6 MB payload limit); others get bounded concurrency."""

    name: ClassVar[str] = PROVIDER
    native_batch: ClassVar[bool] = True

    def __init__(self, config: ProviderConfig) -> None:
        super().__init__(config)
        self.settings = SageMakerSettings.from_provider_config(config)
        try:
            import boto3  # noqa: F401 - fail at construction, with a clear message, when the SDK is missing
        except ImportError as exc:  # pragma: no cover - boto3 is a dependency of this distribution
            raise ConfigError("provider aws-sagemaker needs boto3: pip install hotcrm-ai-sagemaker") from exc
        from hotcrm_ai_sagemaker import logscrub

        logscrub.install()
        self._lock = threading.RLock()
        self._session: Any = None
        self._runtime_clients: dict[float, Any] = {}
        self._control_client: Any = None
        self._invoked: dict[str, None] = {}  # endpoints this provider has served, for health checks

    # ------------------------------------------------------------ plumbing

    def _secrets(self) -> list[str]:
        from hotcrm_ai_sagemaker.session import secret_values

        try:
            return secret_values(self.settings)
        except Exception:
            return []

    def _reset(self, *, close: bool = False) -> None:
        """Forget session and clients: the next call re-reads credentials (rotated env secrets).
        After an auth failure the old clients are only dropped, not closed: other threads may still
        be mid-call on them."""
        with self._lock:
            clients = [*self._runtime_clients.values(), self._control_client]
            self._session, self._runtime_clients, self._control_client = None, {}, None
        if close:
            for client in clients:
                if client is not None:
                    client.close()

    def _get_session(self) -> Any:
        with self._lock:
            if self._session is None:
                from hotcrm_ai_sagemaker.session import build_session

                self._session = build_session(self.settings)
            return self._session

    def _runtime(self, read_timeout_s: float) -> Any:
        with self._lock:
            client = self._runtime_clients.get(read_timeout_s)
            if client is None:
                from hotcrm_ai_sagemaker.session import make_client

                client = make_client(
                    self._get_session(),
                    "sagemaker-runtime",
                    self.settings,
                    endpoint_url=self.settings.runtime_url(),
                    read_timeout_s=read_timeout_s,
                )
                self._runtime_clients[read_timeout_s] = client
            return client

    def _control(self) -> Any:
        with self._lock:
            if self._control_client is None:
                from hotcrm_ai_sagemaker.session import make_client

                self._control_client = make_client(
                    self._get_session(),
                    "sagemaker",
                    self.settings,
                    endpoint_url=self.settings.control_url(),
                    read_timeout_s=self.settings.read_timeout_s or CONTROL_READ_TIMEOUT_S,
                )
            return self._control_client

    def _describe_endpoint(self, name: str) -> Any:
        return self._control().describe_endpoint(EndpointName=name)

    def _read_timeout(self, model: ModelConfig) -> float:
        """The model's ``timeout_s`` when set (the core's contract), else the configured one, else 60 s."""
        if model.timeout_s:
            return float(model.timeout_s)
        return self.settings.read_timeout_s if self.settings.read_timeout_s is not None else DEFAULT_READ_TIMEOUT_S

    def _guard(self, action: str, call: Callable[[], T]) -> T:
        """Run one AWS call; botocore's exceptions leave as hotcrm_ai's typed errors, secrets scrubbed."""
        from hotcrm_ai_sagemaker.errors import map_exception

        try:
            return call()
        except ProviderError:
            raise
        except ConfigError as exc:  # a credential env reference that is not set (names the variable only)
            raise ProviderAuthError(f"{action}: {exc}", provider=PROVIDER) from None
        except Exception as exc:
            mapped = map_exception(exc, action=action, secrets=self._secrets())
            if mapped is None:
                raise
            if isinstance(mapped, ProviderAuthError):
                self._reset()
            raise mapped from exc

    def _spec(self, model: ModelConfig) -> payloads.RequestSpec:
        spec = payloads.request_spec(model)
        if spec.endpoint_name not in self._invoked:
            with self._lock:
                self._invoked[spec.endpoint_name] = None
        return spec

    def _invoke(self, model: ModelConfig, spec: payloads.RequestSpec, body: bytes) -> tuple[Any, dict[str, Any]]:
        """One InvokeEndpoint: the decoded reply and the metadata every output of it shares."""
        args: dict[str, Any] = {
            "EndpointName": spec.endpoint_name,
            "Body": body,
            "ContentType": spec.content_type,
            "Accept": spec.accept,
            **spec.extra_args,
        }
        action = f"SageMaker InvokeEndpoint {spec.endpoint_name}"
        timeout = self._read_timeout(model)

        def call() -> tuple[dict[str, Any], bytes, float]:
            client = self._runtime(timeout)
            start = time.perf_counter()
            response = client.invoke_endpoint(**args)
            raw = response["Body"].read()
            return response, raw, (time.perf_counter() - start) * 1000

        response, raw, latency_ms = self._guard(action, call)
        content_type = response.get("ContentType") or spec.accept
        meta: dict[str, Any] = {
            "provider": PROVIDER,
            "model_id": model.id,
            "endpoint_name": spec.endpoint_name,
            "region": self._runtime(timeout).meta.region_name,
            "latency_ms": round(latency_ms, 3),
            "invoked_variant": response.get("InvokedProductionVariant"),
            "content_type": content_type,
        }
        if response.get("CustomAttributes") is not None:
            meta["custom_attributes"] = response["CustomAttributes"]
        return payloads.decode(raw, content_type, endpoint=spec.endpoint_name), meta

    # ------------------------------------------------------------ the provider interface

    def validate(self) -> bool:
        """Region set and a credential source resolvable; no network call, nothing secret logged."""
        problems = self.problems()
        for problem in problems:
            log.warning("aws-sagemaker: %s", problem)
        return not problems

    def problems(self, model: ModelConfig | None = None) -> list[str]:
        """Why ``validate`` fails, one reason a line (safe to print: names, never values)."""
        from hotcrm_ai_sagemaker.session import credentials_resolvable, resolve_region

        problems = []
        try:
            if not resolve_region(self.settings):
                problems.append("no region: set region in [providers.aws-sagemaker] or AWS_REGION")
        except Exception as exc:
            problems.append(f"region could not be resolved ({type(exc).__name__})")
        ok, why = credentials_resolvable(self.settings)
        if not ok:
            problems.append(why)
        return problems

    def predict(self, model: ModelConfig, inp: PredictionInput) -> PredictionOutput:
        spec = self._spec(model)
        body = payloads.encode_single(model, spec, inp.features)
        decoded, meta = self._invoke(model, spec, body)
        mapped = payloads.map_single(decoded, model, spec, endpoint=spec.endpoint_name)
        meta["confidence_source"] = mapped.source
        return PredictionOutput(prediction=mapped.prediction, confidence=mapped.confidence, metadata=meta)

    def batch_predict(self, model: ModelConfig, inputs: Sequence[PredictionInput]) -> list[PredictionOutput]:
        """In input order. With a ``batch_format``: one invocation per payload-sized chunk; else
        concurrent single predictions (``max_concurrency``). The first failure propagates."""
        if not inputs:
            return []
        spec = self._spec(model)
        if spec.batch_format is None:
            return self._map_concurrently(lambda inp: self.predict(model, inp), list(inputs))
        encoded = payloads.encode_rows(model, spec, [inp.features for inp in inputs])
        chunks = payloads.chunk_batch(spec, encoded, self.settings.max_payload_bytes)

        def run(chunk: range) -> list[PredictionOutput]:
            decoded, meta = self._invoke(model, spec, payloads.join_batch(spec, [encoded[i] for i in chunk]))
            mapped = payloads.map_batch(decoded, len(chunk), model, spec, endpoint=spec.endpoint_name)
            return [
                PredictionOutput(
                    prediction=m.prediction,
                    confidence=m.confidence,
                    metadata={
                        **meta,
                        "confidence_source": m.source,
                        "batch_index": index,
                        "batch_size": len(chunk),
                        "invocations": len(chunks),
                    },
                )
                for index, m in zip(chunk, mapped, strict=True)
            ]

        return [out for part in self._map_concurrently(run, chunks) for out in part]

    def concurrency(self) -> int:
        """``max_concurrency`` of the declared options merged with the credentials (``settings``)."""
        return self.settings.max_concurrency

    def _map_concurrently(self, fn: Callable[[Any], T], items: list[Any]) -> list[T]:
        if len(items) == 1:
            return [fn(items[0])]
        workers = min(self.concurrency(), len(items))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hotcrm-sagemaker") as pool:
            return list(pool.map(fn, items))

    def health_endpoints(self) -> list[str]:
        """Configured ``health_endpoints``, the provider's own endpoint name, then every endpoint served."""
        names = [*self.settings.health_endpoints]
        if self.settings.default_endpoint_name:
            names.append(self.settings.default_endpoint_name)
        with self._lock:
            names.extend(self._invoked)
        return list(dict.fromkeys(names))

    def health_check(self, model: ModelConfig | None = None, *, endpoints: Sequence[str] | None = None) -> HealthReport:
        """DescribeEndpoint; healthy only when every endpoint checked is ``InService``. Which endpoints:
        ``endpoints``, else ``model``'s, else :meth:`health_endpoints`; with none known yet, every
        endpoint ListEndpoints shows (first 100). Latency is the whole check's. Never raises."""
        if endpoints is not None:
            names = list(endpoints)
        elif model is not None:
            names = [model.endpoint or model.id]
        else:
            names = self.health_endpoints()
        check = "DescribeEndpoint" if names else "ListEndpoints"
        start = time.perf_counter()
        statuses: dict[str, str] = {}
        reasons: dict[str, str] = {}
        failures: list[BaseException] = []
        if not names:
            try:
                listed = self._guard("SageMaker ListEndpoints", lambda: self._control().list_endpoints(MaxResults=100))
                for summary in listed.get("Endpoints", []):
                    statuses[str(summary.get("EndpointName"))] = str(summary.get("EndpointStatus", "Unknown"))
            except Exception as exc:  # a health check reports, it does not raise
                failures.append(exc)
        for name in names:  # each endpoint on its own: one missing endpoint does not hide the others
            try:
                described = self._guard(f"SageMaker DescribeEndpoint {name}", partial(self._describe_endpoint, name))
            except Exception as exc:
                failures.append(exc)
                statuses[name] = "Unknown"
                continue
            statuses[name] = str(described.get("EndpointStatus", "Unknown"))
            if described.get("FailureReason"):
                reasons[name] = str(described["FailureReason"])
        latency = (time.perf_counter() - start) * 1000
        problems = [
            str(e) if isinstance(e, ProviderError) else f"{type(e).__name__} during health check" for e in failures
        ]
        bad = {n: s for n, s in statuses.items() if s != "InService"}
        problems += [
            f"endpoint {n} is {s}" + (f" ({reasons[n]})" if n in reasons else "")
            for n, s in bad.items()
            if s != "Unknown"
        ]
        details: dict[str, Any] = {"endpoints": statuses, "check": check}
        if reasons:
            details["failure_reasons"] = reasons
        if failures:
            details["error_type"] = type(failures[0]).__name__
        healthy = not bad and not failures
        return HealthReport(healthy=healthy, latency_ms=latency, error="; ".join(problems) or None, details=details)

    def close(self) -> None:
        self._reset(close=True)


AWSSageMakerProvider = SageMakerProvider  # the class name of the TypeScript version, kept as an alias


def _factory(config: ProviderConfig) -> SageMakerProvider:
    return SageMakerProvider(config)


def provider_spec() -> ProviderSpec:
    return ProviderSpec(
        name=PROVIDER,
        factory=_factory,
        options=SageMakerConfig,
        model_options=payloads.SageMakerModelOptions,
        description="AWS SageMaker real-time endpoints (InvokeEndpoint: JSON/CSV, batch; DescribeEndpoint health)",
    )
