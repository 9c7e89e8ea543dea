"""The ``anthropic`` SDK's exceptions mapped onto hotcrm-ai's typed provider errors, secrets removed.

Servers (and misconfigured proxies) echo what they were sent, so every message is rebuilt from the
parts we need (status, error type, server message) and redacted; the SDK exception is never chained,
because tracebacks print causes. Imported only once a provider exists (it imports the SDK).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import anthropic

from hotcrm_ai.errors import (
    ProviderConnectionError,
    ProviderError,
    ProviderRequestError,
    ProviderResponseError,
    ProviderTimeoutError,
    error_for_status,
)
from hotcrm_ai.retry_after import parse_retry_after
from hotcrm_ai.secrets import BEARER_TOKEN, URL_USERINFO, Redactor

PROVIDER = "anthropic"
MAX_MESSAGE = 300  # characters of a server's error message passed on

# Anthropic keys (sk-ant-...), any sk- key, bearer tokens and x-api-key headers in echoed text.
_KEY_PATTERNS = (
    (re.compile(r"\bsk-[A-Za-z0-9_\-*.]{4,}"), "[redacted]"),
    BEARER_TOKEN,
    (re.compile(r"(?i)(x-api-key['\"]?\s*[:=]\s*['\"]?)[^\s'\",}]+"), r"\1[redacted]"),
    URL_USERINFO,
)


def redactor(secrets: Iterable[str] = ()) -> Redactor:
    """The shared redactor with this vendor's key shapes."""
    return Redactor(secrets, _KEY_PATTERNS)


def _server_error(body: Any) -> tuple[str, str | None]:
    """(message, error type) from an Anthropic error body ``{"type": "error", "error": {...}}``."""
    if isinstance(body, Mapping):
        inner = body.get("error", body)
        if isinstance(inner, Mapping):
            message, kind = inner.get("message"), inner.get("type")
            return (str(message) if message else "", str(kind) if kind else None)
        if isinstance(inner, str):
            return inner, None
    return (body, None) if isinstance(body, str) else ("", None)


def map_error(exc: BaseException, *, operation: str, redact: Redactor) -> ProviderError:
    """The typed error for one SDK exception; ``operation`` names the call (``messages``, ``models``)."""
    if isinstance(exc, anthropic.APITimeoutError):
        return ProviderTimeoutError(f"Anthropic {operation} timed out", provider=PROVIDER)
    if isinstance(exc, anthropic.APIConnectionError):
        why = type(exc.__cause__).__name__ if exc.__cause__ else "connection error"
        return ProviderConnectionError(f"Anthropic {operation} failed: could not connect ({why})", provider=PROVIDER)
    if isinstance(exc, anthropic.APIResponseValidationError):
        return ProviderResponseError(
            f"Anthropic {operation}: the reply does not have the documented shape", provider=PROVIDER
        )
    if isinstance(exc, anthropic.APIStatusError):
        status = exc.status_code
        message, kind = _server_error(exc.body)
        message = redact(message)[:MAX_MESSAGE]
        headers = dict(exc.response.headers) if exc.response is not None else {}
        details: dict[str, Any] = {"request_id": exc.request_id} if getattr(exc, "request_id", None) else {}
        if kind:
            details["type"] = redact(kind)[:80]
        text = (
            f"Anthropic {operation} failed: HTTP {status}"
            + (f" {details['type']}" if kind else "")
            + (f": {message}" if message else "")
        )
        # 529 (overloaded, the API's own back-pressure) is a 5xx: retried like a server error
        return error_for_status(
            status, text, retry_after=parse_retry_after(headers), provider=PROVIDER, details=details
        )
    return ProviderRequestError(
        f"Anthropic {operation} failed: {type(exc).__name__}: {redact(str(exc))[:MAX_MESSAGE]}", provider=PROVIDER
    )
