"""``AnthropicProvider``: the Messages API through the official SDK.

Structured answers (``nlp``, ``classification`` and other non-generation types) come from a forced
tool call: one tool whose ``input_schema`` is the answer's JSON schema, ``tool_choice`` naming it, so
the reply's ``tool_use`` input is the answer. It is validated locally; a reply that fails is asked
again ``malformed_retries`` times (default once), then a non-retryable ``ProviderResponseError``, so
the prediction service does not multiply the attempts. ``generation`` returns the reply's text.

The SDK's own retries are off (``max_retries=0``): the prediction service owns retries, backoff and
the circuit breaker, and a 429's or 529's ``retry-after`` reaches it as ``retry_after``. The key is
read per request (an ``{env = ...}`` key can rotate without a restart): one SDK client per key value.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Mapping
from typing import Any

import anthropic

from hotcrm_ai import answers
from hotcrm_ai.errors import (
    ConfigError,
    ProviderAuthError,
    ProviderError,
    ProviderModelError,
    ProviderRequestError,
    ProviderResponseError,
)
from hotcrm_ai.options import parse_model_options
from hotcrm_ai.provider import BaseMLProvider
from hotcrm_ai.secrets import Redactor, mask_url
from hotcrm_ai.types import HealthReport, ModelConfig, PredictionInput, PredictionOutput, ProviderConfig
from hotcrm_ai_anthropic import prompts
from hotcrm_ai_anthropic.errors import PROVIDER, map_error, redactor
from hotcrm_ai_anthropic.options import AnthropicConfig, AnthropicModelOptions, CallOptions, ProviderSettings

log = logging.getLogger("hotcrm_ai_anthropic")

TOOL_NAME = "answer"
UNKNOWN_CONFIDENCE = "the answer has no confidence field and the Messages API reports no token probabilities"


def _key_problem(key: str) -> str | None:
    """What makes ``key`` unusable in an HTTP header, in words that do not quote it."""
    if len(key) > 1024:
        return "longer than 1024 characters"
    if not key.isascii() or not key.isprintable() or any(c.isspace() for c in key):
        return "contains spaces, control or non-ASCII characters"
    return None


def _confidence(answer: Any, field: str | None, answer_schema: Mapping[str, Any]) -> tuple[float, str, str]:
    """(0-100, source, detail): the answer's own confidence field, else unknown (never invented)."""
    value = answers.answer_confidence(answer, field, answer_schema)
    if value is None:
        return 0.0, "unknown", UNKNOWN_CONFIDENCE
    return value, "answer", str(field)


class AnthropicProvider(BaseMLProvider):
    """One SDK client per key value; thread-safe (the SDK's HTTP client pools connections)."""

    name = PROVIDER
    options: AnthropicConfig

    def __init__(self, config: ProviderConfig) -> None:
        super().__init__(config)
        self.settings = ProviderSettings.from_config(config)
        self.options = self.settings.options
        self._lock = threading.Lock()
        self._client: Any = None
        self._client_key: str | None = None
        self._retired: list[Any] = []  # clients of rotated keys

    # -- configuration -------------------------------------------------------------------------------

    def _api_key(self) -> str:
        try:
            return self.settings.api_key.reveal()
        except ConfigError:
            return ""

    def _redactor(self) -> Redactor:
        return redactor([self._api_key()])

    def _key_source(self) -> str:
        env = self.settings.api_key.env
        return f"environment variable {env}" if env else "credentials.api_key"

    def _sdk(self) -> Any:
        """The client for the current key value (refused before the wire when the key is unusable)."""
        if not self.settings.api_key.is_set():
            raise ProviderAuthError(f"Anthropic: no API key ({self._key_source()} is not set)", provider=PROVIDER)
        key = self._api_key()
        problem = _key_problem(key)
        if problem:
            raise ProviderAuthError(
                f"Anthropic: the API key in {self._key_source()} is malformed: {problem}", provider=PROVIDER
            )
        with self._lock:
            if self._client is None or self._client_key != key:
                old = self._client
                self._client = anthropic.Anthropic(
                    api_key=key,
                    base_url=self.settings.base_url,
                    timeout=anthropic.Timeout(self.options.timeout_s, connect=self.options.connect_timeout_s),
                    max_retries=0,
                    # The API's documented key header. Recent SDKs send the key as a Bearer token, older
                    # ones as x-api-key; sending both (the same key) reaches any gateway whatever the SDK.
                    default_headers={"x-api-key": key},
                )
                self._client_key = key
                if old is not None:  # a request may still be using it: closed with the provider
                    self._retired.append(old)
            return self._client

    def validate(self) -> bool:
        """The key is present and fits in a header. Logs what is wrong, never the key."""
        if not self.settings.api_key.is_set():
            log.warning("anthropic provider: no API key configured (credentials.api_key or %s)", self._key_source())
            return False
        problem = _key_problem(self._api_key())
        if problem:
            log.warning("anthropic provider: the API key is malformed: %s", problem)
            return False
        return True

    # -- the wire ------------------------------------------------------------------------------------

    def _call(self, operation: str, fn_name: str, **kwargs: Any) -> tuple[Any, float]:
        """One SDK call, its latency in ms; SDK errors mapped to typed, redacted ones. The typed error is
        raised outside the ``except`` block so it carries no ``__context__`` quoting the server."""
        client = self._sdk()
        fn = client.models.list if fn_name == "models" else client.messages.create
        start = time.perf_counter()
        try:
            result = fn(**kwargs)
        except anthropic.AnthropicError as exc:
            error = map_error(exc, operation=operation, redact=self._redactor())
        except Exception as exc:  # raised by the HTTP library outside the SDK's own types
            error = ProviderRequestError(
                f"Anthropic {operation} failed: {type(exc).__name__}: {self._redactor()(str(exc))[:200]}",
                provider=PROVIDER,
            )
        else:
            return result, (time.perf_counter() - start) * 1000.0
        raise error

    def _messages(
        self,
        opts: CallOptions,
        system: str | None,
        user: str,
        *,
        answer_schema: Mapping[str, Any] | None = None,
        cache_system: bool = False,
    ) -> tuple[Any, float]:
        kwargs: dict[str, Any] = {
            "model": opts.model,
            "max_tokens": opts.max_tokens,
            "messages": [{"role": "user", "content": user}],
            "timeout": opts.timeout_s,
        }
        if opts.temperature is not None:  # not a keyword of recent SDKs: sent in the body as configured
            kwargs["extra_body"] = {"temperature": opts.temperature}
        if system:
            kwargs["system"] = (
                [{"type": "text", "text": system, "cache_control": {"type": "ephemeral"}}] if cache_system else system
            )
        if answer_schema is not None:
            kwargs["tools"] = [
                {
                    "name": TOOL_NAME,
                    "description": "Record the answer. Its input is the complete answer, matching the schema.",
                    "input_schema": dict(answer_schema),
                }
            ]
            kwargs["tool_choice"] = {"type": "tool", "name": TOOL_NAME}
        return self._call("messages", "messages", **kwargs)

    def _usage(self, messages: list[Any], requested_model: str) -> dict[str, Any]:
        counts = {"input_tokens": 0, "output_tokens": 0, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
        for message in messages:
            usage = getattr(message, "usage", None)
            for key in counts:
                counts[key] += int(getattr(usage, key, 0) or 0)
        record: dict[str, Any] = dict(counts)
        prompt = counts["input_tokens"] + counts["cache_creation_input_tokens"] + counts["cache_read_input_tokens"]
        record["total_tokens"] = prompt + counts["output_tokens"]
        served = getattr(messages[-1], "model", None) if messages else None
        price = self.settings.price_for(served) or self.settings.price_for(requested_model)
        if price is not None:
            record["cost_usd"] = price.cost(counts)
        return record

    # -- structured answers --------------------------------------------------------------------------

    def _ask_structured(
        self,
        model: ModelConfig,
        opts: CallOptions,
        system: str | None,
        user: str,
        answer_schema: Mapping[str, Any],
        *,
        cache_system: bool = False,
    ) -> tuple[Any, list[Any], float]:
        """(answer, every reply, summed latency): the forced tool's input, validated; asked again once."""
        replies: list[Any] = []
        latency = 0.0
        error: ProviderResponseError | None = None
        for _ in range(1 + self.options.malformed_retries):
            message, took = self._messages(opts, system, user, answer_schema=answer_schema, cache_system=cache_system)
            replies.append(message)
            latency += took
            try:
                answer = self._tool_input(message)
                answers.validate_answer(answer, answer_schema, provider=PROVIDER, vendor="Anthropic")
            except ProviderResponseError as exc:
                error = exc
                log.info("anthropic provider: model %s gave a malformed answer: %s", model.id, exc)
                continue
            return answer, replies, latency
        assert error is not None
        raise ProviderResponseError(
            f"{error} (refused after {len(replies)} attempt{'s' if len(replies) > 1 else ''})",
            provider=PROVIDER,
            retryable=False,
            details={**error.details, "attempts": len(replies), "usage": self._usage(replies, opts.model)},
        )

    @staticmethod
    def _tool_input(message: Any) -> Any:
        """The forced tool's input; failing that, a reply whose whole text is one JSON object (a gateway
        that ignored ``tool_choice``). Either is validated against the schema afterwards."""
        blocks = getattr(message, "content", None) or []
        for block in blocks:
            if getattr(block, "type", None) == "tool_use" and getattr(block, "name", None) == TOOL_NAME:
                return block.input
        text = "".join(getattr(b, "text", "") for b in blocks if getattr(b, "type", None) == "text").strip()
        if text.startswith("{") and text.endswith("}"):
            try:
                return json.loads(text)
            except ValueError:
                pass
        stop = getattr(message, "stop_reason", None)
        if stop == "refusal":
            raise ProviderModelError("Anthropic model refused to answer", provider=PROVIDER)
        hint = " (the reply was cut off at max_tokens; raise max_tokens)" if stop == "max_tokens" else ""
        raise ProviderResponseError(
            f"Anthropic reply: expected a {TOOL_NAME!r} tool call with the answer, got stop_reason {stop!r}{hint}",
            provider=PROVIDER,
        )

    def _answer_schema(self, model: ModelConfig, template: prompts.Template) -> dict[str, Any]:
        if model.output:
            return answers.build_schema(model.output, model_id=model.id)
        if template.schema is not None:
            return template.schema
        raise ConfigError(
            f"model {model.id}: output: expected a JSON schema of the answer (no built-in template applies)"
        )

    def _structured(self, model: ModelConfig, inp: PredictionInput) -> PredictionOutput:
        template = prompts.select_template(model, default_system=self.options.system_prompt)
        opts = self.settings.for_model(model)
        answer_schema = self._answer_schema(model, template)
        properties = answer_schema.get("properties", {})
        field = template.confidence_field if template.confidence_field in properties else None
        if field is None and "confidence" in properties:
            field = "confidence"
        prediction_field = parse_model_options(AnthropicModelOptions, model).prediction_field
        if prediction_field is not None and prediction_field not in properties:
            raise ConfigError(
                f"model {model.id}: parameters.prediction_field: expected one of {', '.join(properties)}, "
                f"got {prediction_field!r:.40}"
            )
        user = prompts.user_message(template, inp.features)
        answer, replies, latency = self._ask_structured(model, opts, template.system_prompt, user, answer_schema)
        confidence, source, detail = _confidence(answer, field, answer_schema)
        meta = self._metadata(replies, opts, latency, source, detail, template=template.name)
        prediction = answer[prediction_field] if prediction_field is not None else answer
        return PredictionOutput(prediction=prediction, confidence=confidence, metadata=meta)

    def complete_structured(
        self,
        model: ModelConfig,
        *,
        system: str,
        user: str,
        schema: Mapping[str, Any],
        cache_system: bool = False,
    ) -> PredictionOutput:
        """A forced tool call with ``schema`` as its input schema; ``cache_system`` marks the system prompt
        with ``cache_control`` so a long, stable prompt is read from Anthropic's prompt cache."""
        answers.check_schema(schema, where=f"model {model.id}: structured schema")
        opts = self.settings.for_model(model)
        answer, replies, latency = self._ask_structured(model, opts, system, user, schema, cache_system=cache_system)
        meta = self._metadata(replies, opts, latency, "unknown", UNKNOWN_CONFIDENCE, template="structured")
        return PredictionOutput(prediction=answer, confidence=0.0, metadata=meta)

    # -- generation ----------------------------------------------------------------------------------

    def _generate(self, model: ModelConfig, inp: PredictionInput) -> PredictionOutput:
        template = prompts.select_template(model, default_system=self.options.system_prompt)
        opts = self.settings.for_model(model)
        message, latency = self._messages(
            opts, template.system_prompt or None, prompts.user_message(template, inp.features)
        )
        text = "".join(
            getattr(b, "text", "")
            for b in getattr(message, "content", None) or []
            if getattr(b, "type", None) == "text"
        )
        if not text:
            if getattr(message, "stop_reason", None) == "refusal":
                raise ProviderModelError("Anthropic model refused to answer", provider=PROVIDER)
            raise ProviderResponseError("Anthropic reply: expected generated text, got none", provider=PROVIDER)
        meta = self._metadata([message], opts, latency, "unknown", UNKNOWN_CONFIDENCE, template="generation")
        if message.stop_reason == "max_tokens":
            meta["truncated"] = True
        return PredictionOutput(prediction=text, confidence=0.0, metadata=meta)

    def predict(self, model: ModelConfig, inp: PredictionInput) -> PredictionOutput:
        if model.type == "embedding":
            raise ProviderRequestError(
                f"model {model.id}: type embedding: the Anthropic API has no embeddings endpoint", provider=PROVIDER
            )
        if model.type == "generation":
            return self._generate(model, inp)
        return self._structured(model, inp)

    def batches_natively(self, model: ModelConfig) -> bool:
        """Never: rows go one by one (bounded concurrency), so a 429 on one row resends only that row."""
        return False

    def _metadata(
        self, replies: list[Any], opts: CallOptions, latency: float, source: str, detail: str, **extra: Any
    ) -> dict[str, Any]:
        last = replies[-1]
        meta: dict[str, Any] = {
            "provider": PROVIDER,
            "model": getattr(last, "model", None) or opts.model,
            "requested_model": opts.model,
            "latency_ms": latency,
            "usage": self._usage(replies, opts.model),
            "confidence_source": source,
            "confidence_detail": detail,
            "attempts": len(replies),
            "stop_reason": getattr(last, "stop_reason", None),
        }
        request_id = getattr(last, "_request_id", None)
        if request_id:
            meta["request_id"] = request_id
        meta.update(extra)
        return meta

    # -- health --------------------------------------------------------------------------------------

    def health_check(self, model: ModelConfig | None = None) -> HealthReport:
        """``GET /v1/models`` once (cheap and authenticated), latency measured; never raises."""
        start = time.perf_counter()
        try:
            page, latency = self._call(
                "health check", "models", limit=100, timeout=min(self.options.health_timeout_s, self.options.timeout_s)
            )
            ids = [m.id for m in getattr(page, "data", None) or []]
        except ProviderError as exc:
            return HealthReport(
                healthy=False,
                latency_ms=(time.perf_counter() - start) * 1000.0,
                error=str(exc),
                details={"base_url": mask_url(self.settings.base_url), "error_type": type(exc).__name__},
            )
        return HealthReport(
            healthy=True,
            latency_ms=latency,
            details={
                "base_url": mask_url(self.settings.base_url),
                "models": len(ids),
                "model_available": self.options.model in ids,
            },
        )

    def close(self) -> None:
        with self._lock:
            clients = [*self._retired, *([self._client] if self._client is not None else [])]
            self._client, self._retired = None, []
        for client in clients:
            client.close()

    def __repr__(self) -> str:
        return f"AnthropicProvider(base_url={mask_url(self.settings.base_url)!r}, model={self.options.model!r})"
