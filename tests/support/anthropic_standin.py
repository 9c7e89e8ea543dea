"""A local stand-in of the Anthropic Messages API for tests: the real ``anthropic`` SDK talks HTTP to it
on 127.0.0.1.

It speaks ``POST /v1/messages`` (text replies, tools with ``tool_choice`` forcing one tool, system
prompts as a string or text blocks with ``cache_control``, prompt caching with cache-creation and
cache-read token counts) and ``GET /v1/models``; checks the key (``x-api-key`` or a Bearer token, as
SDK versions differ) and the ``anthropic-version`` header; answers errors in the API's shape
(``{"type": "error", "error": {"type": ..., "message": ...}}``) and records every request. Answers
depend on the input (the same word-list sentiment and lead heuristics as the OpenAI stand-in), so a
test can tell a real round trip from a canned one.

Per-test control, consumed in order per path::

    server.fail_next(MESSAGES, 529, headers={"retry-after": "1"})  # any status (overloaded_error, ...)
    server.rate_limit_next(MESSAGES, retry_after=1)                # 429 rate_limit_error + retry-after
    server.delay_next(MESSAGES, 2.0)                               # answer late (client timeouts)
    server.reply_next(MESSAGES, {"sentiment": "maybe"})            # exact tool input (malformed answers)
    server.on_message(lambda body: {...})                          # scripted: dict tool input, str text,
                                                                   #   {"__response__": {...}} whole body
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from support.json_standin import Action, JSONStandIn, Recorded
from support.openai_standin import _Signals, fill_schema

MESSAGES = "/v1/messages"
MODELS = "/v1/models"
DEFAULT_MODELS = ("claude-haiku-4-5", "claude-sonnet-4-5", "claude-opus-4-1")
MIN_CACHE_TOKENS = 1024  # the API caches a prefix only from this many tokens on


_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


def error_body(status: int, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": _ERROR_TYPES.get(status, "api_error"), "message": message}}


def count_tokens(text: str) -> int:
    return len(re.findall(r"\w+|[^\w\s]", text))


def _blocks_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(b.get("text", "")) for b in content if isinstance(b, Mapping))
    return ""


class AnthropicStandIn(JSONStandIn):
    """The server; start it with ``with`` or ``start()``. ``base_url`` is the API root (no ``/v1``)."""

    name = "anthropic-standin"
    request_id_header = "request-id"
    request_id_prefix = "req_standin_"

    def __init__(
        self,
        api_keys: Iterable[str] | str = "sk-ant-standin-0123456789abcdef",
        *,
        models: Iterable[str] = DEFAULT_MODELS,
        echo_key_in_errors: bool = True,
        min_cache_tokens: int = MIN_CACHE_TOKENS,
    ) -> None:
        super().__init__()
        self.api_keys = {api_keys} if isinstance(api_keys, str) else set(api_keys)
        self.models = list(models)
        self.echo_key_in_errors = echo_key_in_errors  # as careless as a bad proxy: tests prove we redact
        self.min_cache_tokens = min_cache_tokens
        self._cache: set[str] = set()
        self._script: Callable[[dict[str, Any]], Any] | None = None

    # -- lifecycle -----------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        assert self._server is not None, "server not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # -- control -------------------------------------------------------------------------------------

    def fail_next(
        self,
        path: str,
        status: int,
        *,
        times: int = 1,
        headers: Mapping[str, str] | None = None,
        message: str | None = None,
    ) -> None:
        body = error_body(status, message or f"stand-in injected HTTP {status}")
        for _ in range(times):
            self._push(path, Action("fail", status=status, headers=dict(headers or {}), body=body))

    def rate_limit_next(self, path: str, *, retry_after: float | str = 1, times: int = 1) -> None:
        self.fail_next(
            path,
            429,
            times=times,
            headers={"retry-after": str(retry_after)},
            message="Number of requests has exceeded your per-minute rate limit",
        )

    def delay_next(self, path: str, seconds: float, *, times: int = 1) -> None:
        for _ in range(times):
            self._push(path, Action("delay", delay=seconds))

    def reply_next(self, path: str, reply: Any, *, times: int = 1) -> None:
        """The next replies carry exactly ``reply`` (a dict is the tool input, a str the text)."""
        for _ in range(times):
            self._push(path, Action("reply", reply=reply))

    def on_message(self, script: Callable[[dict[str, Any]], Any] | None) -> None:
        """Every Messages request goes to ``script(body)`` first: a dict is the forced tool's input, a str
        the reply text, ``{"__response__": {...}}`` the whole response, None means answer as usual."""
        self._script = script

    def reset(self) -> None:
        super().reset()
        with self._lock:
            self._cache.clear()
            self._script = None

    # -- internals -----------------------------------------------------------------------------------

    def _respond(self, req: Recorded) -> tuple[int, Any, dict[str, str]]:
        routes = {("POST", MESSAGES): self._messages, ("GET", MODELS): self._models}
        route = routes.get((req.method, req.path))
        if route is None:
            return 404, error_body(404, f"Not found: {req.method} {req.path}"), {}
        if self.latency > 0:
            time.sleep(self.latency)
        if req.key not in self.api_keys:
            shown = req.key if self.echo_key_in_errors else "***"
            return 401, error_body(401, f"invalid x-api-key: {shown}"), {}
        if not req.headers.get("anthropic-version"):
            return 400, error_body(400, "anthropic-version: header is required"), {}
        reply = None
        while (action := self._pop(req.path)) is not None:
            if action.kind == "fail":
                return action.status, action.body, action.headers
            if action.kind == "delay":
                time.sleep(action.delay)
                continue
            reply = action
            break
        return route(req, reply)

    def _models(self, req: Recorded, _: Action | None) -> tuple[int, Any, dict[str, str]]:
        data = [
            {"type": "model", "id": m, "display_name": m, "created_at": "2025-10-01T00:00:00Z"} for m in self.models
        ]
        return 200, {"data": data, "has_more": False, "first_id": self.models[0], "last_id": self.models[-1]}, {}

    def _cache_tokens(self, model: str, system: Any) -> tuple[int, int, int]:
        """(uncached, cache-created, cache-read) input tokens of the system prompt. The prefix up to the
        last block marked ``cache_control`` is cached when it is long enough."""
        blocks = [{"type": "text", "text": system}] if isinstance(system, str) else list(system or [])
        marked = max((i for i, b in enumerate(blocks) if isinstance(b, Mapping) and b.get("cache_control")), default=-1)
        prefix = _blocks_text(blocks[: marked + 1])
        rest = _blocks_text(blocks[marked + 1 :])
        prefix_tokens, rest_tokens = count_tokens(prefix), count_tokens(rest)
        if marked < 0 or prefix_tokens < self.min_cache_tokens:
            return prefix_tokens + rest_tokens, 0, 0
        digest = hashlib.sha256(f"{model}\0{prefix}".encode()).hexdigest()
        with self._lock:
            hit = digest in self._cache
            self._cache.add(digest)
        return rest_tokens, (0 if hit else prefix_tokens), (prefix_tokens if hit else 0)

    def _messages(self, req: Recorded, action: Action | None) -> tuple[int, Any, dict[str, str]]:
        body = req.body
        bad = self._check(body)
        if bad is not None:
            return 400, error_body(400, bad), {}
        model = body["model"]
        if model not in self.models:
            return 404, error_body(404, f"model: {model}"), {}
        tools = {t["name"]: t for t in body.get("tools") or []}
        forced = (body.get("tool_choice") or {}).get("name")
        user = _blocks_text(body["messages"][-1].get("content"))
        reply = action.reply if action is not None else None
        if reply is None and self._script is not None:
            reply = self._script(body)
        if isinstance(reply, dict) and "__response__" in reply:
            return 200, reply["__response__"], {}
        if reply is None:
            signals = _Signals(user)
            if forced:
                reply = fill_schema(tools[forced]["input_schema"], signals)
            else:
                reply = f"Summary ({signals.label}): " + " ".join(user.split()[:20])
        if isinstance(reply, str):
            content: list[dict[str, Any]] = [{"type": "text", "text": reply}]
            stop, out_text = "end_turn", reply
        else:
            name = forced or next(iter(tools), "tool")
            content = [{"type": "tool_use", "id": f"toolu_standin_{self._next_id()}", "name": name, "input": reply}]
            stop, out_text = "tool_use", json.dumps(reply)
        uncached, created, read = self._cache_tokens(model, body.get("system"))
        tool_tokens = sum(count_tokens(json.dumps(t)) for t in tools.values())
        message_tokens = sum(count_tokens(_blocks_text(m.get("content"))) + 4 for m in body["messages"])
        return (
            200,
            {
                "id": f"msg_standin_{self._next_id()}",
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": content,
                "stop_reason": stop,
                "stop_sequence": None,
                "usage": {
                    "input_tokens": uncached + tool_tokens + message_tokens,
                    "output_tokens": count_tokens(out_text),
                    "cache_creation_input_tokens": created,
                    "cache_read_input_tokens": read,
                },
            },
            {},
        )

    @staticmethod
    def _check(body: Any) -> str | None:
        """What the API would refuse in a Messages request (a 400's message), or None."""
        if not isinstance(body, dict):
            return "expected a JSON object body"
        if not isinstance(body.get("model"), str):
            return "model: Field required"
        max_tokens = body.get("max_tokens")
        if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
            return "max_tokens: Field required (an integer >= 1)"
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages or messages[-1].get("role") != "user":
            return "messages: expected a non-empty list ending with a user turn"
        temperature = body.get("temperature", 1.0)
        if not isinstance(temperature, (int, float)) or not 0 <= temperature <= 1:
            return "temperature: Input should be less than or equal to 1"
        tools = body.get("tools") or []
        for i, tool in enumerate(tools):
            schema = tool.get("input_schema") if isinstance(tool, dict) else None
            if not isinstance(schema, dict) or schema.get("type") != "object":
                return f"tools.{i}.custom.input_schema.type: Input should be 'object'"
        choice = body.get("tool_choice")
        if choice is not None and choice.get("type") == "tool" and choice.get("name") not in {t["name"] for t in tools}:
            return f"tool_choice: tool {choice.get('name')!r} is not among the tools"
        return None
