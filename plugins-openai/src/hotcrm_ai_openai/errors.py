"""Map the OpenAI SDK's exceptions onto hotcrm-ai's typed provider errors, with secrets removed.

The SDK's own messages quote the server's error body, and servers echo what they were sent (OpenAI
echoes a masked key; a misconfigured proxy may echo the whole header). So every message we raise is
rebuilt from the parts we need (status, error type/code, server message) and run through
``Redactor``; the SDK exception is never chained (``from None``) because tracebacks print causes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from hotcrm_ai.errors import (
    ProviderConnectionError,
    ProviderError,
    ProviderRateLimitError,
    ProviderRequestError,
    ProviderResponseError,
    ProviderTimeoutError,
    error_for_status,
)
from hotcrm_ai.retry_after import parse_retry_after
from hotcrm_ai.secrets import BEARER_TOKEN, URL_USERINFO, Redactor

PROVIDER = "openai"
MAX_MESSAGE = 300  # characters of a server's error message we pass on

# OpenAI-style keys (sk-..., sk-proj-..., sess-...), even partially masked ones ("sk-abc*****wxyz"), and
# bearer tokens in echoed headers. Redacted whatever the configured key is.
_KEY_PATTERNS = (
    (re.compile(r"\b(?:sk|sess|rk)-[A-Za-z0-9_\-*.]{4,}"), "[redacted]"),
    BEARER_TOKEN,
    URL_USERINFO,
)


def redactor(secrets: Iterable[str] = ()) -> Redactor:
    """The shared redactor with this vendor's key shapes."""
    return Redactor(secrets, _KEY_PATTERNS)


def _server_message(body: Any) -> tuple[str, str | None]:
    """(message, type-or-code) from an OpenAI-style error body, whatever shape it came in."""
    if isinstance(body, Mapping):
        inner = body.get("error", body)
        if isinstance(inner, Mapping):
            message = inner.get("message")
            kind = inner.get("code") or inner.get("type")
            return (str(message) if message else "", str(kind) if kind else None)
        if isinstance(inner, str):
            return inner, None
    if isinstance(body, str):
        return body, None
    return "", None


def map_openai_error(exc: BaseException, *, operation: str, redact: Redactor) -> ProviderError:
    """The typed error for one SDK exception. ``operation`` names the call (``chat``, ``embeddings``)."""
    import openai

    status = getattr(exc, "status_code", None)
    if isinstance(exc, openai.APITimeoutError):
        return ProviderTimeoutError(f"OpenAI {operation} timed out", provider=PROVIDER)
    if isinstance(exc, openai.APIConnectionError):
        why = type(exc.__cause__).__name__ if exc.__cause__ else "connection error"
        return ProviderConnectionError(f"OpenAI {operation} failed: could not connect ({why})", provider=PROVIDER)
    if isinstance(exc, openai.APIResponseValidationError):
        return ProviderResponseError(
            f"OpenAI {operation}: the reply does not have the documented shape", provider=PROVIDER, status=status
        )
    if isinstance(exc, openai.APIStatusError):
        message, kind = _server_message(exc.body)
        message = redact(message)[:MAX_MESSAGE]
        headers = dict(exc.response.headers) if exc.response is not None else {}
        details: dict[str, Any] = {"request_id": exc.request_id} if exc.request_id else {}
        if kind:
            details["code"] = redact(kind)[:80]
        text = (
            f"OpenAI {operation} failed: HTTP {status}"
            + (f" {details['code']}" if kind else "")
            + (f": {message}" if message else "")
        )
        if status == 429 and kind == "insufficient_quota":  # out of credit: waiting does not help
            return ProviderRateLimitError(text, provider=PROVIDER, status=status, retryable=False, details=details)
        return error_for_status(
            exc.status_code, text, retry_after=parse_retry_after(headers), provider=PROVIDER, details=details
        )
    if isinstance(exc, openai.OpenAIError):
        return ProviderRequestError(f"OpenAI {operation} failed: {redact(str(exc))[:MAX_MESSAGE]}", provider=PROVIDER)
    return ProviderResponseError(
        f"OpenAI {operation} failed: {type(exc).__name__}: {redact(str(exc))[:MAX_MESSAGE]}", provider=PROVIDER
    )
