"""``OpenAIProvider``: chat completions with structured outputs, embeddings and plain generation
through the official SDK, against OpenAI or any server that speaks its API (``base_url``).

This module and the SDK load when the provider is first built (``plugin.provider_spec``'s factory),
never at plugin registration, so ``import hotcrm_ai`` stays fast with this plugin installed.

The SDK's own retries are off (``max_retries=0``): the prediction service owns retries, backoff and the
circuit breaker, and a 429's ``Retry-After`` reaches it as ``ProviderRateLimitError.retry_after``. The
one exception is a malformed structured answer, which is asked again ``malformed_retries`` times
(default once) here, because only the provider can tell a reply that parsed from one that did not; the
error raised after that is not retryable, so the service does not multiply the attempts.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from hotcrm_ai.errors import (
    ConfigError,
    FieldError,
    ProviderAuthError,
    ProviderError,
    ProviderModelError,
    ProviderRequestError,
    ProviderResponseError,
    ValidationError,
)
from hotcrm_ai.options import parse_model_options
from hotcrm_ai.provider import BaseMLProvider
from hotcrm_ai.secrets import Redactor, mask_url
from hotcrm_ai.types import HealthReport, ModelConfig, PredictionInput, PredictionOutput, ProviderConfig
from hotcrm_ai_openai import batching, prompts, schema
from hotcrm_ai_openai.confidence import NONE, Confidence, from_answer, from_logprobs
from hotcrm_ai_openai.errors import map_openai_error, redactor
from hotcrm_ai_openai.options import CallOptions, OpenAIModelOptions, OpenAIOptions
from hotcrm_ai_openai.pricing import price_for, usage_record

log = logging.getLogger("hotcrm_ai_openai")

NAME = "openai"
HEALTH_TIMEOUT_S = 10.0


def _key_problem(key: str) -> str | None:
    """What makes ``key`` unusable as a Bearer token, in words that do not quote it."""
    if len(key) > 1024:
        return "longer than 1024 characters"
    if not key.isascii() or not key.isprintable() or any(c.isspace() for c in key):
        return "contains spaces, control or non-ASCII characters"
    return None


class OpenAIProvider(BaseMLProvider):
    """One SDK client per provider config; thread-safe (the SDK's HTTP client pools connections)."""

    name = NAME
    native_batch = True  # embeddings: one request per 2,048 texts; chat: bounded concurrency
    options: OpenAIOptions

    def __init__(self, config: ProviderConfig) -> None:
        super().__init__(config)
        self.options = OpenAIOptions.from_config(config)
        import openai  # the SDK loads here, when the provider is first built

        self._openai = openai
        self._client = openai.OpenAI(
            api_key=self._api_key,  # a callable: an {env = ...} key is read per request, so rotation needs no restart
            organization=self.options.organization,
            project=self.options.project,
            base_url=self.options.base_url,
            timeout=self.options.timeout_s,
            max_retries=0,
        )

    # -- configuration -------------------------------------------------------------------------------

    def _api_key(self) -> str:
        try:
            return self.options.api_key.reveal()
        except ConfigError:
            return ""

    def _redactor(self) -> Redactor:
        return redactor([self._api_key()])

    def _key_source(self) -> str:
        env = self.options.api_key.env
        return f"environment variable {env}" if env else "credentials.api_key"

    def _require_key(self) -> None:
        """Refuse before the wire: no key, or one that cannot go in an HTTP header (the HTTP library's
        error for that would quote the header, key included)."""
        if not self.options.api_key.is_set():
            raise ProviderAuthError(f"OpenAI: no API key ({self._key_source()} is not set)", provider=NAME)
        problem = _key_problem(self._api_key())
        if problem:
            raise ProviderAuthError(
                f"OpenAI: the API key in {self._key_source()} is malformed: {problem}", provider=NAME
            )

    def validate(self) -> bool:
        """The key is present and looks like a key (printable, no spaces; ``sk-`` for api.openai.com).
        Logs what is wrong, never the key."""
        if not self.options.api_key.is_set():
            log.warning("openai provider: no API key configured (credentials.api_key or OPENAI_API_KEY)")
            return False
        key = self._api_key()
        problem = _key_problem(key)
        official = urlsplit(self.options.base_url).hostname == "api.openai.com"
        if not problem and official and (not key.startswith("sk-") or len(key) < 20):
            problem = "does not look like an OpenAI key (expected sk-... of at least 20 characters)"
        if problem:
            log.warning("openai provider: the API key is malformed: %s", problem)
            return False
        return True

    # -- predictions -----------------------------------------------------------------------------------

    def predict(self, model: ModelConfig, inp: PredictionInput) -> PredictionOutput:
        if model.type == "embedding":
            return self._embed(model, [inp])[0]
        if model.type == "generation":
            return self._generate(model, inp)
        return self._structured(model, inp)

    def batches_natively(self, model: ModelConfig) -> bool:
        """Whether ``batch_predict`` is one request for ``model`` (embeddings) rather than concurrent single
        calls (chat). A service that asks this can send chat rows one by one, so a 429 on one row does
        not resend the rows that already succeeded."""
        return model.type == "embedding"

    def batch_predict(self, model: ModelConfig, inputs: Sequence[PredictionInput]) -> list[PredictionOutput]:
        """Embeddings in as few requests as the API limits allow; chat calls concurrently, bounded by
        ``max_concurrency`` (the base class's pool)."""
        if not inputs:
            return []
        if model.type == "embedding":
            return self._embed(model, inputs)
        return super().batch_predict(model, inputs)

    def _call(self, operation: str, fn: Any, **kwargs: Any) -> tuple[Any, float]:
        """One SDK call, its latency in ms, SDK errors mapped to typed, redacted ones.

        The typed error is raised outside the ``except`` block so it carries no ``__context__``: the
        SDK's exception quotes the server, and servers may echo the key."""
        self._require_key()
        start = time.perf_counter()
        try:
            result = fn(**kwargs)
        except self._openai.OpenAIError as exc:
            error = map_openai_error(exc, operation=operation, redact=self._redactor())
        except Exception as exc:  # raised by the SDK or its HTTP library outside its own error types
            error = ProviderRequestError(
                f"OpenAI {operation} failed: {type(exc).__name__}: {self._redactor()(str(exc))[:200]}", provider=NAME
            )
        else:
            return result, (time.perf_counter() - start) * 1000.0
        raise error

    def _chat(
        self,
        opts: CallOptions,
        messages: list[dict[str, str]],
        *,
        response_format: dict[str, Any] | None,
        logprobs: bool,
    ) -> tuple[Any, float]:
        kwargs: dict[str, Any] = {
            "model": opts.model,
            "messages": messages,
            "temperature": opts.temperature,
            opts.max_tokens_param: opts.max_tokens,
            "timeout": opts.timeout_s,
        }
        if response_format is not None:
            kwargs["response_format"] = response_format
        if logprobs:
            kwargs["logprobs"] = True
        if opts.seed is not None:
            kwargs["seed"] = opts.seed
        completion, latency = self._call("chat", self._client.chat.completions.create, **kwargs)
        if not getattr(completion, "choices", None):
            raise ProviderResponseError("OpenAI chat reply: expected at least one choice, got none", provider=NAME)
        return completion, latency

    def _usage(self, completions: Sequence[Any], requested_model: str) -> dict[str, Any]:
        prompt = sum(int(getattr(c.usage, "prompt_tokens", 0) or 0) for c in completions if c.usage is not None)
        completion = sum(int(getattr(c.usage, "completion_tokens", 0) or 0) for c in completions if c.usage is not None)
        served = completions[-1].model if completions else None
        price = price_for(self.options.prices, served) or price_for(self.options.prices, requested_model)
        record = usage_record(prompt, completion, price)
        cached = sum(
            int(getattr(getattr(c.usage, "prompt_tokens_details", None), "cached_tokens", 0) or 0)
            for c in completions
            if c.usage is not None
        )
        if cached:  # prompt tokens OpenAI served from its automatic prompt cache
            record["cached_tokens"] = cached
        return record

    def _structured(self, model: ModelConfig, inp: PredictionInput) -> PredictionOutput:
        template = prompts.select_template(model)
        opts = self.options.for_model(model)
        if model.output:
            answer_schema = schema.build_schema(model.output, model_id=model.id)
        elif template.schema is not None:
            answer_schema = template.schema
        else:
            raise ConfigError(
                f"model {model.id}: output: expected a JSON schema of the answer (no built-in template applies)"
            )
        properties = answer_schema.get("properties", {})
        confidence_field = template.confidence_field if template.confidence_field in properties else None
        params = parse_model_options(OpenAIModelOptions, model)
        if confidence_field is None and "confidence" in properties and params.confidence_field is None:
            confidence_field = "confidence"
        prediction_field = params.prediction_field
        if prediction_field is not None and prediction_field not in properties:
            raise ConfigError(
                f"model {model.id}: parameters.prediction_field: expected one of {', '.join(properties)}, "
                f"got {prediction_field!r:.40}"
            )
        want_logprobs = opts.logprobs is True or (opts.logprobs == "auto" and confidence_field is None)

        if opts.response_format == "json_schema":
            wire_schema, strict_ok = schema.strict_variant(answer_schema)
            response_format: dict[str, Any] = {
                "type": "json_schema",
                "json_schema": {
                    "name": schema.schema_name(model.id),
                    "schema": wire_schema,
                    "strict": opts.strict and strict_ok,
                },
            }
            messages = prompts.chat_messages(template, inp.features)
        else:
            response_format = {"type": "json_object"}
            messages = prompts.chat_messages(template, inp.features, schema_hint=answer_schema)

        completions: list[Any] = []
        latency = 0.0
        error: ProviderResponseError | None = None
        answer: Any = None
        for _ in range(1 + self.options.malformed_retries):
            completion, took = self._chat(opts, messages, response_format=response_format, logprobs=want_logprobs)
            completions.append(completion)
            latency += took
            choice = completion.choices[0]
            refusal = getattr(choice.message, "refusal", None)
            if refusal:
                raise ProviderModelError(
                    f"OpenAI model refused to answer: {self._redactor()(str(refusal))[:200]}",
                    provider=NAME,
                    details={"usage": self._usage(completions, opts.model)},
                )
            try:
                answer = schema.parse_answer(choice.message.content, finish_reason=choice.finish_reason)
                schema.validate_answer(answer, answer_schema)
            except ProviderResponseError as exc:
                error = exc
                log.info("openai provider: model %s gave a malformed answer: %s", model.id, exc)
                continue
            error = None
            break
        usage = self._usage(completions, opts.model)
        if error is not None:
            raise ProviderResponseError(
                f"{error} (refused after {len(completions)} attempt{'s' if len(completions) > 1 else ''})",
                provider=NAME,
                retryable=False,
                details={**error.details, "attempts": len(completions), "usage": usage},
            )

        choice = completions[-1].choices[0]
        confidence = (
            from_answer(answer, confidence_field, answer_schema)
            or (
                from_logprobs(choice.logprobs.content, template.logprob_field)
                if want_logprobs and choice.logprobs
                else None
            )
            or NONE
        )
        prediction = answer[prediction_field] if prediction_field is not None else answer
        return PredictionOutput(
            prediction=prediction,
            confidence=confidence.value,
            metadata=self._metadata(
                completions[-1],
                opts,
                latency,
                usage,
                confidence,
                template=template.name,
                attempts=len(completions),
                finish_reason=choice.finish_reason,
            ),
        )

    def complete_structured(
        self,
        model: ModelConfig,
        *,
        system: str,
        user: str,
        schema: Mapping[str, Any],
        cache_system: bool = False,
    ) -> PredictionOutput:
        """Structured outputs constrained to ``schema`` (strict where it allows), validated here and asked
        again ``malformed_retries`` times, then a non-retryable ``ProviderResponseError``. ``cache_system``
        needs no flag on this API: OpenAI caches long prompt prefixes by itself, and the cached tokens
        show in ``usage.cached_tokens``."""
        from hotcrm_ai_openai.schema import parse_answer, schema_name, strict_variant, validate_answer

        opts = self.options.for_model(model)
        answer_schema = dict(schema)
        wire_schema, strict_ok = strict_variant(answer_schema)
        response_format = {
            "type": "json_schema",
            "json_schema": {"name": schema_name(model.id), "schema": wire_schema, "strict": strict_ok},
        }
        messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
        completions: list[Any] = []
        latency = 0.0
        for _ in range(1 + self.options.malformed_retries):
            completion, took = self._chat(opts, messages, response_format=response_format, logprobs=False)
            completions.append(completion)
            latency += took
            choice = completion.choices[0]
            refusal = getattr(choice.message, "refusal", None)
            if refusal:
                raise ProviderModelError(
                    f"OpenAI model refused to answer: {self._redactor()(str(refusal))[:200]}",
                    provider=NAME,
                    details={"usage": self._usage(completions, opts.model)},
                )
            try:
                answer = parse_answer(choice.message.content, finish_reason=choice.finish_reason)
                validate_answer(answer, answer_schema)
            except ProviderResponseError as exc:
                error = exc
                log.info("openai provider: model %s gave a malformed structured answer: %s", model.id, exc)
                continue
            usage = self._usage(completions, opts.model)
            meta = self._metadata(
                completion,
                opts,
                latency,
                usage,
                NONE,
                template="structured",
                attempts=len(completions),
                finish_reason=choice.finish_reason,
            )
            return PredictionOutput(prediction=answer, confidence=0.0, metadata=meta)
        raise ProviderResponseError(
            f"{error} (refused after {len(completions)} attempt{'s' if len(completions) > 1 else ''})",
            provider=NAME,
            retryable=False,
            details={**error.details, "attempts": len(completions), "usage": self._usage(completions, opts.model)},
        )

    def _generate(self, model: ModelConfig, inp: PredictionInput) -> PredictionOutput:
        template = prompts.select_template(model)
        opts = self.options.for_model(model)
        want_logprobs = opts.logprobs is True
        messages = prompts.chat_messages(template, inp.features)
        completion, latency = self._chat(opts, messages, response_format=None, logprobs=want_logprobs)
        choice = completion.choices[0]
        text = choice.message.content
        if not text:
            refusal = getattr(choice.message, "refusal", None)
            if refusal:
                raise ProviderModelError(f"OpenAI model refused to answer: {str(refusal)[:200]}", provider=NAME)
            raise ProviderResponseError("OpenAI reply: expected generated text, got an empty message", provider=NAME)
        confidence = (
            from_logprobs(choice.logprobs.content, None) if want_logprobs and choice.logprobs else None
        ) or NONE
        usage = self._usage([completion], opts.model)
        metadata = self._metadata(
            completion,
            opts,
            latency,
            usage,
            confidence,
            template="generation",
            attempts=1,
            finish_reason=choice.finish_reason,
        )
        if choice.finish_reason == "length":
            metadata["truncated"] = True
        return PredictionOutput(prediction=text, confidence=confidence.value, metadata=metadata)

    def _metadata(
        self,
        completion: Any,
        opts: CallOptions,
        latency: float,
        usage: dict[str, Any],
        confidence: Confidence,
        **extra: Any,
    ) -> dict[str, Any]:
        meta: dict[str, Any] = {
            "provider": NAME,
            "model": getattr(completion, "model", None) or opts.model,
            "requested_model": opts.model,
            "latency_ms": latency,
            "usage": usage,
            "confidence_source": confidence.source,
        }
        if confidence.detail:
            meta["confidence_detail"] = confidence.detail
        request_id = getattr(completion, "_request_id", None)
        if request_id:
            meta["request_id"] = request_id
        meta.update(extra)
        return meta

    # -- embeddings ------------------------------------------------------------------------------------

    def _embedding_texts(self, model: ModelConfig, inputs: Sequence[PredictionInput]) -> list[str]:
        field = parse_model_options(OpenAIModelOptions, model).input_field or "text"
        texts: list[str] = []
        errors: list[FieldError] = []
        for i, inp in enumerate(inputs):
            value = inp.features.get(field)
            where = f"features.{field}" if len(inputs) == 1 else f"rows[{i}].features.{field}"
            if not isinstance(value, str) or not value.strip():
                errors.append(
                    FieldError(
                        field=where,
                        expected="non-empty text to embed",
                        got=type(value).__name__ if not isinstance(value, str) else "empty text",
                    )
                )
            else:
                texts.append(value)
        if errors:
            raise ValidationError(errors, subject="features")
        return texts

    def _embed(self, model: ModelConfig, inputs: Sequence[PredictionInput]) -> list[PredictionOutput]:
        opts = self.options.for_model(model, embedding=True)
        texts = self._embedding_texts(model, inputs)
        ranges = batching.split_batches(
            texts,
            max_inputs=self.options.embedding_batch_size,
            max_tokens=self.options.embedding_max_tokens_per_request,
        )
        outputs: list[PredictionOutput] = []
        for rows in ranges:
            kwargs: dict[str, Any] = {"model": opts.model, "input": [texts[i] for i in rows], "timeout": opts.timeout_s}
            if opts.dimensions is not None:
                kwargs["dimensions"] = opts.dimensions
            response, latency = self._call("embeddings", self._client.embeddings.create, **kwargs)
            outputs.extend(self._embedding_outputs(response, [texts[i] for i in rows], opts, latency, len(ranges)))
        return outputs

    def _embedding_outputs(
        self, response: Any, texts: list[str], opts: CallOptions, latency: float, requests: int
    ) -> list[PredictionOutput]:
        data = sorted(response.data or [], key=lambda d: d.index)
        if len(data) != len(texts) or [d.index for d in data] != list(range(len(texts))):
            raise ProviderResponseError(
                f"OpenAI embeddings reply: expected {len(texts)} vectors indexed 0-{len(texts) - 1}, got {len(data)}",
                provider=NAME,
            )
        prompt_total = int(getattr(response.usage, "prompt_tokens", 0) or 0) if response.usage is not None else 0
        shares = batching.apportion(prompt_total, [batching.token_bound(t) for t in texts])
        price = price_for(self.options.prices, response.model) or price_for(self.options.prices, opts.model)
        request_id = getattr(response, "_request_id", None)
        outputs = []
        for item, share in zip(data, shares, strict=True):
            vector = [float(x) for x in item.embedding]
            if not vector or not all(math.isfinite(x) for x in vector):
                raise ProviderResponseError(
                    f"OpenAI embeddings reply: vector {item.index} is empty or not finite", provider=NAME
                )
            meta: dict[str, Any] = {
                "provider": NAME,
                "model": response.model or opts.model,
                "requested_model": opts.model,
                "latency_ms": latency,
                "usage": usage_record(share, 0, price),
                "usage_shared": len(texts) > 1,  # the request's tokens split over its rows by text length
                "confidence_source": "none",
                "dimensions": len(vector),
                "batch_size": len(texts),
                "batch_requests": requests,
            }
            if request_id:
                meta["request_id"] = request_id
            outputs.append(PredictionOutput(prediction=vector, confidence=0.0, metadata=meta))
        return outputs

    # -- health ----------------------------------------------------------------------------------------

    def health_check(self, model: ModelConfig | None = None) -> HealthReport:
        """``GET /models`` once, latency measured; never raises, never shows the key."""
        start = time.perf_counter()
        try:
            page, latency = self._call(
                "health check", self._client.models.list, timeout=min(HEALTH_TIMEOUT_S, self.options.timeout_s)
            )
            ids = [m.id for m in page.data or []]
        except ProviderError as exc:
            return HealthReport(
                healthy=False,
                latency_ms=(time.perf_counter() - start) * 1000.0,
                error=str(exc),
                details={"base_url": mask_url(self.options.base_url), "error_type": type(exc).__name__},
            )
        return HealthReport(
            healthy=True,
            latency_ms=latency,
            details={
                "base_url": mask_url(self.options.base_url),
                "models": len(ids),
                "model_available": self.options.chat_model in ids,
            },
        )

    def close(self) -> None:
        self._client.close()

    def __repr__(self) -> str:
        return f"OpenAIProvider(base_url={mask_url(self.options.base_url)!r}, model={self.options.chat_model!r})"
