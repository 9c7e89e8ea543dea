"""Secrets that cannot leak by accident.

A ``Secret`` hides its value from ``repr``, ``str``, f-strings, logging and JSON output; only
``reveal()`` returns it. A secret configured as ``{env = "NAME"}`` stays a reference and is read from
the environment when revealed, so rotating the variable needs no restart and the value is never
stored in the registry file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from hotcrm_ai.errors import ConfigError

REDACTED = "**********"


class Secret:
    __slots__ = ("_env", "_value")

    def __init__(self, value: str | None = None, *, env: str | None = None) -> None:
        if (value is None) == (env is None):
            raise ConfigError("a secret needs exactly one of a value or an env reference")
        if env is not None and (not isinstance(env, str) or not env):
            raise ConfigError("secret env reference: expected a non-empty variable name")
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"secret value: expected a string, got {type(value).__name__}")
        self._value = value
        self._env = env

    @classmethod
    def from_env(cls, name: str) -> Secret:
        return cls(env=name)

    @property
    def env(self) -> str | None:
        return self._env

    def is_set(self) -> bool:
        return self._value is not None or bool(os.environ.get(self._env or ""))

    def reveal(self) -> str:
        """The value. Raises ``ConfigError`` naming the variable (never a value) when unset."""
        if self._value is not None:
            return self._value
        assert self._env is not None
        value = os.environ.get(self._env)
        if not value:
            raise ConfigError(f"environment variable {self._env} is not set (referenced as a secret)")
        return value

    def to_json(self) -> Any:
        """What JSON output and persistence show: the reference, or a redaction mark."""
        return {"env": self._env} if self._env is not None else REDACTED

    def __repr__(self) -> str:
        return f"Secret(env={self._env!r})" if self._env else "Secret('**********')"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return self._value == other._value and self._env == other._env

    def __hash__(self) -> int:
        return hash((self._value, self._env))

    def __reduce__(self) -> Any:  # pickling would write the value to disk
        raise TypeError("Secret objects cannot be pickled")


def as_secret(value: Any, *, field: str = "secret") -> Secret:
    """Build a Secret from a plain string, an ``{"env": NAME}`` mapping, or a Secret."""
    if isinstance(value, Secret):
        return value
    if isinstance(value, str):
        if value == REDACTED:
            raise ConfigError(f'{field}: got the redaction mark, not a secret; use {{env = "NAME"}}')
        return Secret(value)
    if isinstance(value, dict) and set(value) == {"env"}:
        return Secret(env=value["env"])
    raise ConfigError(f'{field}: expected a string or {{env = "NAME"}}, got {type(value).__name__}')


def redact(text: str, secrets: Iterable[str | None], *, mark: str = REDACTED) -> str:
    """``text`` with every occurrence of each secret value replaced by ``mark``.

    Values shorter than 4 characters are left alone (they would blank out ordinary words); the longest
    are replaced first, so a secret that contains another is hidden whole. Providers run every message
    built from a server's reply through this, because servers echo what they were sent.
    """
    values = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)
    for secret in values:
        text = text.replace(secret, mark)
    long = [s for s in values if len(s) >= 12]
    if not long:
        return text
    # servers also echo keys truncated or masked ("sk-proj-****...abcd"): a token carrying a piece of
    # a key (its start or end, or any 8 characters of it) goes too
    return _TOKEN.sub(lambda m: mark if _echoes(m.group(), long) else m.group(), text)


BEARER_TOKEN = (re.compile(r"(?i)\bbearer\s+[^\s'\",}]+"), "Bearer [redacted]")
URL_USERINFO = (re.compile(r"//[^/@\s:]+:[^/@\s]+@"), "//[redacted]@")


class Redactor:
    """What a provider runs every message built from a server's reply through: its configured
    secrets and their echoes (:func:`redact`), then anything matching ``patterns`` (key shapes of
    that vendor, bearer tokens, user:password in URLs), whatever the configured key is."""

    def __init__(self, secrets: Iterable[str] = (), patterns: Iterable[tuple[re.Pattern[str], str]] = ()) -> None:
        self._secrets = tuple(secrets)
        self._patterns = tuple(patterns)

    def __call__(self, text: str) -> str:
        text = redact(text, self._secrets, mark="[redacted]")
        for pattern, replacement in self._patterns:
            text = pattern.sub(replacement, text)
        return text


_TOKEN = re.compile(r"[A-Za-z0-9_\-.*~+/=]{4,}")


def _echoes(token: str, secrets: list[str]) -> bool:
    for piece in re.split(r"[*.~]{2,}|\*+", token):
        if len(piece) < 4:
            continue
        for secret in secrets:
            if piece in secret and (len(piece) >= 8 or secret.startswith(piece) or secret.endswith(piece)):
                return True
    return False


_SENSITIVE_PARAMS = frozenset(
    {"password", "passwd", "pwd", "token", "secret", "key", "api_key", "apikey", "code", "sig"}
)
_URL_IN_TEXT = re.compile(r"(?i)\b[a-z][a-z0-9+.-]*://[^\s'\"<>]+")
URL_MASK = "***"


def mask_url(url: str) -> str:
    """``url`` safe to print: its userinfo (user and password) and the values of credential-like query
    parameters (``password``, ``token``, ``key``, ``code``, ``sig``...) become ``***``; scheme, host,
    port and path stay, so the URL still says where it points. The one masking rule for every
    URL we print (Redis URLs, provider endpoints, scoring URIs, database URLs, error messages)."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:  # user names too: they often name a tenant or a service account
            netloc = f"{URL_MASK}@{netloc.rsplit('@', 1)[1]}"
        query = parts.query
        if query:
            pairs = parse_qsl(query, keep_blank_values=True)
            query = urlencode([(k, URL_MASK if k.lower() in _SENSITIVE_PARAMS else v) for k, v in pairs], safe="*")
        return f"{parts.scheme}://{netloc}{parts.path}" + (f"?{query}" if query else "")
    except ValueError:
        return "<unparseable url>"


def mask_urls(text: str) -> str:
    """``text`` with every URL in it passed through :func:`mask_url` (for error messages)."""
    return _URL_IN_TEXT.sub(lambda m: mask_url(m.group()), text)
