"""HTTP outcomes of a scoring call -> hotcrm_ai typed errors, with secrets scrubbed from every message.

The prediction service retries on ``retryable`` and waits ``retry_after``; it never parses messages. So
this module is where "429 means wait, 401 means stop" lives, once, for both the direct and the by-name path.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from hotcrm_ai.errors import (
    ProviderError,
    ProviderModelError,
    ProviderRequestError,
)
from hotcrm_ai.errors import error_for_status as core_error_for_status
from hotcrm_ai.retry_after import parse_retry_after
from hotcrm_ai.secrets import redact

PROVIDER = "azure-ml"
_EXCERPT = 200


def excerpt(body: bytes | str, secrets: Iterable[str | None] = ()) -> str:
    """A short, single-line, secret-free piece of a reply body for an error message."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    text = " ".join(text.split())
    text = redact(text, secrets)
    return text if len(text) <= _EXCERPT else text[: _EXCERPT - 3] + "..."


def error_for_status(
    status: int,
    body: bytes | str,
    headers: Mapping[str, str],
    *,
    what: str,
    secrets: Iterable[str | None] = (),
    details: dict[str, Any] | None = None,
) -> ProviderError:
    """The typed error for a non-2xx scoring reply. ``what`` names the call (endpoint, deployment)."""
    secrets = list(secrets)
    text = excerpt(body, secrets)
    retry_after = parse_retry_after(headers)
    message = f"Azure ML prediction failed: {status} - {text or '(empty reply)'} ({what})"
    kw: dict[str, Any] = {"provider": PROVIDER, "status": status, "details": dict(details or {})}
    if status in (401, 403):
        hint = "the key or token was rejected" if status == 401 else "the caller is not allowed to score"
        message = f"{message}: {hint}; check credentials"
    elif status == 424:
        # Azure ML's "model error": the scoring container answered non-2xx; its message is in the body.
        return ProviderModelError(message, retry_after=retry_after, **kw)
    elif status == 413:
        message = f"{message}: the request is too large; lower max_request_bytes"
    elif status == 409:  # Azure's retry policy does not retry a conflict on scoring
        return ProviderRequestError(message, **kw)
    return core_error_for_status(status, message, retry_after=retry_after, provider=PROVIDER, details=kw["details"])
