"""``error_for_status``: the vendor-independent meaning of an HTTP status, shared by the provider plugins."""

from __future__ import annotations

import pytest

from hotcrm_ai.errors import (
    ProviderAuthError,
    ProviderRateLimitError,
    ProviderRequestError,
    ProviderServerError,
    ProviderTimeoutError,
    error_for_status,
)


@pytest.mark.parametrize(
    ("status", "kind", "retryable", "keeps_retry_after"),
    [
        (401, ProviderAuthError, False, False),
        (403, ProviderAuthError, False, False),
        (408, ProviderTimeoutError, True, True),
        (409, ProviderRequestError, True, False),
        (429, ProviderRateLimitError, True, True),
        (500, ProviderServerError, True, True),
        (529, ProviderServerError, True, True),
        (400, ProviderRequestError, False, False),
        (422, ProviderRequestError, False, False),
    ],
)
def test_status_maps_to_typed_error(status: int, kind: type, retryable: bool, keeps_retry_after: bool) -> None:
    err = error_for_status(status, "boom", retry_after=2.5, provider="p", details={"request_id": "r1"})
    assert type(err) is kind
    assert (err.status, err.provider, err.details, str(err)) == (status, "p", {"request_id": "r1"}, "boom")
    assert err.retryable is retryable
    assert err.retry_after == (2.5 if keeps_retry_after else None)
