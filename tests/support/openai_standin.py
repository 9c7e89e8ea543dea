"""A local OpenAI-compatible server for tests: the real SDK talks HTTP to it on 127.0.0.1.

It speaks ``POST /v1/chat/completions`` (plain text, ``response_format`` json_schema / json_object,
``logprobs``, ``max_tokens`` truncation), ``POST /v1/embeddings`` (float or base64, ``dimensions``) and
``GET /v1/models``, checks the Bearer key, and records every request. Its answers depend on the input
(a small word-list sentiment heuristic, a lead heuristic over the features JSON, hashed bag-of-words
embeddings), so a test can tell a real round trip from a canned one.

Per-test control, consumed in order per endpoint::

    server.fail_next(CHAT, 500)                       # any status, optional headers / body
    server.rate_limit_next(CHAT, retry_after=1)       # 429 with Retry-After
    server.delay_next(CHAT, 2.0)                      # answer late (client timeouts)
    server.reply_next(CHAT, '{"sentiment": "maybe"}') # exact chat content (malformed answers)
    server.on_chat(lambda body: "SELECT ...")         # scripted replies (str content, dict response, or None)

Usage::

    with OpenAIStandIn(api_key="sk-test-...") as server:
        client = openai.OpenAI(api_key=..., base_url=server.base_url)
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
import struct
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from support.json_standin import Action, JSONStandIn, Recorded

CHAT = "/v1/chat/completions"
EMBEDDINGS = "/v1/embeddings"
MODELS = "/v1/models"

DEFAULT_MODELS = ("gpt-4", "gpt-4o-mini", "text-embedding-3-small", "text-embedding-3-large")
EMBEDDING_MODELS = ("text-embedding-3-small", "text-embedding-3-large")
MAX_EMBEDDING_INPUTS = 2048

POSITIVE = frozenset(
    [
        "good",
        "great",
        "excellent",
        "happy",
        "love",
        "loved",
        "amazing",
        "fantastic",
        "pleased",
        "thanks",
        "thank",
        "wonderful",
        "recommend",
        "helpful",
        "fast",
        "perfect",
        "awesome",
        "delighted",
        "satisfied",
        "glad",
        "impressed",
    ]
)
NEGATIVE = frozenset(
    [
        "bad",
        "terrible",
        "awful",
        "hate",
        "hated",
        "poor",
        "angry",
        "broken",
        "slow",
        "disappointed",
        "disappointing",
        "refund",
        "worst",
        "cancel",
        "useless",
        "unhappy",
        "frustrated",
        "annoyed",
        "horrible",
        "rude",
        "late",
    ]
)
SENIOR_TITLES = (
    "chief",
    "ceo",
    "cto",
    "cfo",
    "coo",
    "cio",
    "vp",
    "vice president",
    "president",
    "director",
    "head",
    "founder",
    "owner",
)


# -- heuristics -------------------------------------------------------------------------------------


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def sentiment_of(text: str) -> tuple[str, float, float]:
    """(label, score 0-1, probability of the label) from counts of positive and negative words."""
    words = _words(text)
    pos = sum(w in POSITIVE for w in words)
    neg = sum(w in NEGATIVE for w in words)
    score = round(0.5 + 0.45 * math.tanh(0.8 * (pos - neg)), 4)
    label = "positive" if pos > neg else "negative" if neg > pos else "neutral"
    prob = 0.6 if pos == neg == 0 else 0.5 + 0.45 * abs(pos - neg) / (pos + neg + 1)
    return label, score, round(prob, 4)


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def lead_of(features: Mapping[str, Any]) -> tuple[float, float]:
    """(score 0-100, confidence 0-100) for a lead: engagement, budget, company size, seniority."""
    score, known = 15.0, 0
    engagement = _num(features.get("engagement_score"))
    if engagement is not None:
        score += 0.4 * min(max(engagement, 0.0), 100.0)
        known += 1
    budget = _num(features.get("budget"))
    if budget is not None:
        score += 20.0 * min(1.0, math.log10(1 + max(budget, 0.0)) / 6.0)
        known += 1
    size = _num(features.get("company_size"))
    if size is not None:
        score += 10.0 * min(1.0, math.log10(1 + max(size, 0.0)) / 4.0)
        known += 1
    title = features.get("job_title")
    if isinstance(title, str):
        known += 1
        t = title.lower()
        score += 15.0 if any(s in t for s in SENIOR_TITLES) else 7.0 if "manager" in t else 0.0
    if isinstance(features.get("industry"), str):
        known += 1
    return round(min(100.0, max(0.0, score)), 2), float(min(95, 40 + 11 * known))


def _user_text(messages: Iterable[Mapping[str, Any]]) -> str:
    texts = []
    for m in messages:
        if m.get("role") != "user":
            continue
        content = m.get("content")
        if isinstance(content, list):  # content parts
            content = " ".join(p.get("text", "") for p in content if isinstance(p, Mapping))
        texts.append(str(content or ""))
    return texts[-1] if texts else ""


def _features_in(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
        return value if isinstance(value, dict) else None
    except ValueError:
        pass
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        try:
            value = json.loads(text[start : end + 1])
            return value if isinstance(value, dict) else None
        except ValueError:
            return None
    return None


class _Signals:
    """What the stand-in 'understood' of the user message, used to fill any schema."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.label, self.sentiment_score, self.label_prob = sentiment_of(text)
        features = _features_in(text)
        self.features = features
        self.lead = lead_of(features) if features is not None else None

    def number(self, name: str, low: float | None, high: float | None, integer: bool) -> float:
        name = name.lower()
        if "confidence" in name:
            value = self.lead[1] if self.lead else round(100 * self.label_prob, 2)
        elif self.lead is not None and ("score" in name or "prediction" in name or "probability" in name):
            value = self.lead[0]
        else:
            value = self.sentiment_score
        if high is not None and high <= 1 and value > 1:
            value = value / 100.0
        elif high is not None and high > 1 and value <= 1 and self.lead is None:
            value = value * high
        if low is not None:
            value = max(low, value)
        if high is not None:
            value = min(high, value)
        return round(value) if integer else value

    def choice(self, options: list[Any]) -> Any:
        for wanted in (
            self.label,
            "hot" if (self.lead or (0,))[0] >= 60 else "cold",
            "yes" if self.sentiment_score >= 0.5 else "no",
        ):
            if wanted in options:
                return wanted
        return options[0]


def fill_schema(schema: Mapping[str, Any], signals: _Signals, name: str = "value", depth: int = 0) -> Any:
    """A value that conforms to ``schema`` (the subject of structured outputs), derived from the input."""
    if depth > 8:
        return None
    if "enum" in schema:
        return signals.choice(list(schema["enum"]))
    if "const" in schema:
        return schema["const"]
    for key in ("anyOf", "oneOf"):
        if schema.get(key):
            return fill_schema(schema[key][0], signals, name, depth + 1)
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        props = schema.get("properties", {})
        return {k: fill_schema(v, signals, k, depth + 1) for k, v in props.items()}
    if kind in ("number", "integer"):
        return signals.number(name, schema.get("minimum"), schema.get("maximum"), kind == "integer")
    if kind == "boolean":
        return signals.sentiment_score >= 0.5
    if kind == "array":
        count = max(int(schema.get("minItems", 1)), 1)
        return [fill_schema(schema.get("items", {"type": "string"}), signals, name, depth + 1) for _ in range(count)]
    if kind == "string":
        if name.lower() in ("sentiment", "label", "class", "category"):
            return signals.label
        return " ".join(signals.text.split()[:8]) or "n/a"
    return None


def _tokens(content: str) -> list[str]:
    return re.findall(r"\w+|\s+|[^\w\s]", content)


def _logprobs(content: str, decisive: str | None, prob: float) -> dict[str, Any]:
    """Per-token log-probabilities: the tokens of the ``decisive`` field's value get ``prob``, the
    punctuation around them is near-certain."""
    span = None
    if decisive is not None:
        match = re.search(re.escape(json.dumps(decisive)) + r'\s*:\s*"([^"]*)"', content)
        if match:
            span = match.span(1)
    tokens, pos, out = _tokens(content), 0, []
    inside: list[int] = []
    for i, tok in enumerate(tokens):
        if span and pos < span[1] and pos + len(tok) > span[0]:
            inside.append(i)
        pos += len(tok)
    per_token = math.log(prob) / len(inside) if inside else 0.0
    for i, tok in enumerate(tokens):
        if i in inside:
            lp = per_token
        elif span is None and re.match(r"\w", tok):
            lp = math.log(0.9)
        else:
            lp = -0.0001
        out.append({"token": tok, "logprob": lp, "bytes": list(tok.encode()), "top_logprobs": []})
    return {"content": out, "refusal": None}


def _count_tokens(text: str) -> int:
    return len(re.findall(r"\w+|[^\w\s]", text))


def embed_text(text: str, dimensions: int) -> list[float]:
    """Hashed bag of words, L2-normalised: equal texts give equal vectors, shared words raise cosine."""
    vec = [0.0] * dimensions
    words = _words(text) or [text]
    for w in words:
        digest = hashlib.blake2b(w.encode(), digest_size=8).digest()
        h = int.from_bytes(digest, "big")
        vec[h % dimensions] += 1.0 if (h >> 32) & 1 else -1.0
    norm = math.sqrt(sum(v * v for v in vec)) or 1.0
    return [v / norm for v in vec]


def _strict_problem(schema: Any, path: str = "schema") -> str | None:
    """What OpenAI's strict mode would refuse in ``schema`` (closed objects, all fields required)."""
    if isinstance(schema, Mapping):
        if schema.get("type") == "object" or "properties" in schema:
            props = schema.get("properties", {})
            if schema.get("additionalProperties") is not False:
                return f"'additionalProperties' is required to be supplied and to be false at {path}"
            missing = sorted(set(props) - set(schema.get("required", [])))
            if missing:
                return f"'required' is required to include every property; missing {', '.join(missing)} at {path}"
        for key, value in schema.items():
            problem = _strict_problem(value, f"{path}.{key}")
            if problem:
                return problem
    elif isinstance(schema, list):
        for i, value in enumerate(schema):
            problem = _strict_problem(value, f"{path}[{i}]")
            if problem:
                return problem
    return None


# -- the server -------------------------------------------------------------------------------------


def _error(
    message: str, kind: str = "invalid_request_error", code: str | None = None, param: str | None = None
) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


class OpenAIStandIn(JSONStandIn):
    """The server object; start it with ``with`` or ``start()``. ``base_url`` ends in ``/v1``."""

    name = "openai-standin"
    request_id_header = "x-request-id"
    request_id_prefix = "req_"

    def __init__(
        self,
        api_key: str = "sk-standin-0123456789abcdef",
        *,
        models: Iterable[str] = DEFAULT_MODELS,
        dimensions: int = 64,
        model_aliases: Mapping[str, str] | None = None,
        echo_key_in_errors: bool = True,
    ) -> None:
        super().__init__()
        self.api_key = api_key
        self.models = list(models)
        self.dimensions = dimensions
        self.model_aliases = dict(model_aliases or {})
        self.echo_key_in_errors = echo_key_in_errors  # be as careless as a bad proxy: tests prove we redact
        self._chat_script: Callable[[dict[str, Any]], Any] | None = None

    # -- lifecycle -----------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    # -- control -------------------------------------------------------------------------------------

    def fail_next(
        self,
        path: str,
        status: int,
        *,
        times: int = 1,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
        message: str | None = None,
    ) -> None:
        """The next ``times`` requests to ``path`` get ``status`` (an OpenAI-style error body by default)."""
        payload = (
            body
            if body is not None
            else _error(
                message or f"stand-in injected HTTP {status}",
                "server_error" if status >= 500 else "invalid_request_error",
            )
        )
        for _ in range(times):
            self._push(path, Action("fail", status=status, headers=dict(headers or {}), body=payload))

    def rate_limit_next(
        self, path: str, *, retry_after: float | str = 1, times: int = 1, header: str = "retry-after"
    ) -> None:
        """429 with ``Retry-After`` (or ``retry-after-ms`` when ``header`` says so)."""
        value = str(retry_after)
        self.fail_next(
            path,
            429,
            times=times,
            headers={header: value},
            body=_error("Rate limit reached for requests", "requests", "rate_limit_exceeded"),
        )

    def delay_next(self, path: str, seconds: float, *, times: int = 1) -> None:
        for _ in range(times):
            self._push(path, Action("delay", delay=seconds))

    def reply_next(self, path: str, content: str, *, times: int = 1) -> None:
        """The next chat replies carry exactly ``content`` (e.g. malformed JSON)."""
        for _ in range(times):
            self._push(path, Action("reply", reply=content))

    def on_chat(self, script: Callable[[dict[str, Any]], Any] | None) -> None:
        """Every chat request goes to ``script(body)`` first: a str is the reply content, a dict the whole
        response, None means answer as usual. For LLM-backed features (query translation...)."""
        self._chat_script = script

    def reset(self) -> None:
        super().reset()
        self._chat_script = None

    # -- internals -----------------------------------------------------------------------------------

    def _respond(self, req: Recorded) -> tuple[int, Any, dict[str, str]]:
        routes = {("POST", CHAT): self._chat, ("POST", EMBEDDINGS): self._embeddings, ("GET", MODELS): self._models}
        route = routes.get((req.method, req.path))
        if route is None:
            return 404, _error(f"Unknown request URL: {req.method} {req.path}", code="unknown_url"), {}
        if self.latency > 0:
            time.sleep(self.latency)
        if req.bearer != self.api_key:
            shown = req.bearer if self.echo_key_in_errors else "***"
            return (
                401,
                _error(
                    f"Incorrect API key provided: {shown}. You can find your API key in your account settings.",
                    code="invalid_api_key",
                ),
                {},
            )
        content_override = None
        while (action := self._pop(req.path)) is not None:
            if action.kind == "fail":
                return action.status, action.body, action.headers
            if action.kind == "delay":
                time.sleep(action.delay)
                continue  # a delayed request is then answered normally
            if action.kind == "reply":
                content_override = action.reply
            break
        return route(req, content_override)

    def _models(self, req: Recorded, _: str | None) -> tuple[int, Any, dict[str, str]]:
        return (
            200,
            {
                "object": "list",
                "data": [
                    {"id": m, "object": "model", "created": 1700000000, "owned_by": "stand-in"} for m in self.models
                ],
            },
            {},
        )

    def _check_model(self, body: Any) -> tuple[int, Any, dict[str, str]] | None:
        model = body.get("model") if isinstance(body, dict) else None
        if not isinstance(model, str) or model not in self.models:
            return (
                404,
                _error(f"The model `{model}` does not exist or you do not have access to it.", code="model_not_found"),
                {},
            )
        return None

    def _chat(self, req: Recorded, content: str | None) -> tuple[int, Any, dict[str, str]]:
        body = req.body
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list) or not body["messages"]:
            return 400, _error("'messages' is required and must be a non-empty array", param="messages"), {}
        if (bad := self._check_model(body)) is not None:
            return bad
        model = body["model"]
        response_format = body.get("response_format") or {}
        decisive, prob = None, 0.9
        if content is None and self._chat_script is not None:
            scripted = self._chat_script(body)
            if isinstance(scripted, dict):
                return 200, scripted, {}
            content = scripted
        if content is None:
            signals = _Signals(_user_text(body["messages"]))
            prob = signals.label_prob
            if response_format.get("type") == "json_schema":
                spec = response_format.get("json_schema") or {}
                schema = spec.get("schema")
                if not isinstance(schema, dict):
                    return 400, _error("response_format.json_schema.schema is required", param="response_format"), {}
                if spec.get("strict") and (problem := _strict_problem(schema)):
                    return (
                        400,
                        _error(
                            f"Invalid schema for response_format '{spec.get('name')}': {problem}",
                            param="response_format",
                        ),
                        {},
                    )
                answer = fill_schema(schema, signals)
                decisive = next((k for k, v in schema.get("properties", {}).items() if "enum" in v), None)
                content = json.dumps(answer)
            elif response_format.get("type") == "json_object":
                system = " ".join(str(m.get("content", "")) for m in body["messages"] if m.get("role") == "system")
                schema = _features_in(system.split("JSON schema:", 1)[1]) if "JSON schema:" in system else None
                answer = (
                    fill_schema(schema, signals)
                    if schema
                    else {"sentiment": signals.label, "score": signals.sentiment_score}
                )
                content = json.dumps(answer)
            else:
                words = signals.text.split()
                content = f"Summary ({signals.label}): " + " ".join(words[:20])
        finish = "stop"
        limit = body.get("max_completion_tokens") or body.get("max_tokens")
        toks = _tokens(content)
        if isinstance(limit, int) and sum(1 for t in toks if not t.isspace()) > limit:
            kept, n = [], 0
            for t in toks:
                if not t.isspace():
                    n += 1
                    if n > limit:
                        break
                kept.append(t)
            content, finish = "".join(kept), "length"
        prompt_tokens = sum(_count_tokens(str(m.get("content", ""))) + 4 for m in body["messages"])
        completion_tokens = _count_tokens(content)
        choice: dict[str, Any] = {
            "index": 0,
            "message": {"role": "assistant", "content": content, "refusal": None},
            "finish_reason": finish,
            "logprobs": None,
        }
        if body.get("logprobs"):
            choice["logprobs"] = _logprobs(content, decisive, prob)
        return (
            200,
            {
                "id": f"chatcmpl-standin-{self._next_id()}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": self.model_aliases.get(model, model),
                "choices": [choice],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                },
            },
            {},
        )

    def _embeddings(self, req: Recorded, _: str | None) -> tuple[int, Any, dict[str, str]]:
        body = req.body
        if not isinstance(body, dict):
            return 400, _error("expected a JSON body"), {}
        if (bad := self._check_model(body)) is not None:
            return bad
        if body["model"] not in EMBEDDING_MODELS:
            return 400, _error(f"{body['model']} is not an embedding model", param="model"), {}
        raw = body.get("input")
        inputs = [raw] if isinstance(raw, str) or (isinstance(raw, list) and raw and isinstance(raw[0], int)) else raw
        if not isinstance(inputs, list) or not inputs:
            return 400, _error("'input' must be a string or a non-empty array", param="input"), {}
        if len(inputs) > MAX_EMBEDDING_INPUTS:
            return (
                400,
                _error(f"'input' must have at most {MAX_EMBEDDING_INPUTS} items, got {len(inputs)}", param="input"),
                {},
            )
        texts = []
        for item in inputs:
            if isinstance(item, list):
                item = " ".join(f"t{t}" for t in item)
            if not isinstance(item, str) or not item:
                return 400, _error("'$.input' is invalid: every input must be a non-empty string", param="input"), {}
            texts.append(item)
        dims = body.get("dimensions") or self.dimensions
        base64_format = body.get("encoding_format") == "base64"
        data = []
        for i, text in enumerate(texts):
            vec = embed_text(text, int(dims))
            encoded: Any = base64.b64encode(struct.pack(f"<{len(vec)}f", *vec)).decode() if base64_format else vec
            data.append({"object": "embedding", "index": i, "embedding": encoded})
        tokens = sum(max(1, len(_words(t))) for t in texts)
        return (
            200,
            {
                "object": "list",
                "data": data,
                "model": self.model_aliases.get(body["model"], body["model"]),
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            },
            {},
        )
