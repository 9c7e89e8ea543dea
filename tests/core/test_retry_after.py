"""``Retry-After`` as every HTTP provider reads it (hotcrm_ai.retry_after)."""

from __future__ import annotations

import email.utils

import pytest

from hotcrm_ai.retry_after import parse_retry_after
from hotcrm_ai.secrets import redact


def test_seconds_milliseconds_and_dates() -> None:
    assert parse_retry_after({"Retry-After": "12"}) == 12.0
    assert parse_retry_after({"retry-after-ms": "1500", "Retry-After": "9"}) == 1.5  # the precise one wins
    assert parse_retry_after({"x-ms-retry-after-ms": "250"}) == 0.25
    now = 1_800_000_000.0
    assert parse_retry_after({"Retry-After": email.utils.formatdate(now + 30, usegmt=True)}, now=now) == pytest.approx(
        30, abs=1
    )
    assert parse_retry_after({"Retry-After": email.utils.formatdate(now - 30, usegmt=True)}, now=now) == 0.0


@pytest.mark.parametrize("value", ["-3", "nan", "inf", "soon", ""])
def test_unreadable_values_give_no_hint(value: str) -> None:
    assert parse_retry_after({"Retry-After": value}) is None
    assert parse_retry_after({"retry-after-ms": value}) is None
    assert parse_retry_after(None) is None and parse_retry_after({}) is None


def test_redact_hides_longest_secrets_first_and_skips_short_ones() -> None:
    assert redact("key abcd1234 and abcd", ["abcd", "abcd1234"]) == "key ********** and **********"
    assert redact("a b c", ["a", None, ""]) == "a b c"
    assert redact("token=s3cr3t!", ["s3cr3t!"], mark="[redacted]") == "token=[redacted]"
