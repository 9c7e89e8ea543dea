"""``[server]`` of ``hotcrm-ai.toml``: API keys and limits, validated here so the core never needs to
know them. Keys must be ``{env = "NAME"}`` references: a key written into the file would be shown by
``hotcrm-ai config show`` and land in version control."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import attrs

from hotcrm_ai.errors import ConfigError
from hotcrm_ai.secrets import Secret


@attrs.frozen
class ApiKey:
    """One key: the secret reference, the tenant it stands for and the models it may use."""

    key: Secret
    tenant: str
    models: tuple[str, ...] = ("*",)

    def allows(self, model_id: str) -> bool:
        return "*" in self.models or model_id in self.models


@attrs.frozen
class ServerSettings:
    api_keys: tuple[ApiKey, ...] = ()
    max_body_bytes: int = 16 * 1024 * 1024
    max_rows: int = 100_000
    request_timeout_s: float = 60.0
    graceful_timeout_s: float = 30.0
    threads: int = 16  # worker threads for predictions (REST) and for gRPC calls


_LIMITS = {
    "max_body_bytes": int,
    "max_rows": int,
    "request_timeout_s": float,
    "graceful_timeout_s": float,
    "threads": int,
}


def _api_key(i: int, entry: Any) -> ApiKey:
    where = f"[server] api_keys[{i}]"
    if not isinstance(entry, Mapping):
        raise ConfigError(f'{where}: expected a table {{ key = {{ env = "NAME" }}, tenant = "..." }}')
    unknown = sorted(set(entry) - {"key", "tenant", "models"})
    if unknown:
        raise ConfigError(f"{where}: unknown keys {', '.join(unknown)}; expected key, tenant, models")
    ref = entry.get("key")
    if isinstance(ref, Secret):
        secret = ref
    elif isinstance(ref, Mapping) and set(ref) == {"env"} and isinstance(ref["env"], str) and ref["env"]:
        secret = Secret(env=ref["env"])
    else:
        raise ConfigError(f'{where}.key: expected an env reference {{ env = "NAME" }} (never the key itself)')
    tenant = entry.get("tenant")
    if not isinstance(tenant, str) or not tenant or len(tenant) > 200:
        raise ConfigError(f"{where}.tenant: expected a non-empty string of at most 200 characters")
    models = entry.get("models", ["*"])
    if isinstance(models, str) or not isinstance(models, (list, tuple)) or not models:
        raise ConfigError(f'{where}.models: expected a non-empty list of model ids or ["*"]')
    if not all(isinstance(m, str) and m for m in models):
        raise ConfigError(f"{where}.models: expected model ids (non-empty strings)")
    return ApiKey(key=secret, tenant=tenant, models=tuple(models))


def server_settings(table: Mapping[str, Any]) -> ServerSettings:
    """Build and check ``ServerSettings`` from the raw ``[server]`` table; errors name the key."""
    unknown = sorted(set(table) - {"api_keys", *_LIMITS})
    if unknown:
        raise ConfigError(f"[server]: unknown keys {', '.join(unknown)}; expected api_keys, {', '.join(_LIMITS)}")
    keys = table.get("api_keys", [])
    if not isinstance(keys, (list, tuple)):
        raise ConfigError("[server] api_keys: expected an array of tables")
    values: dict[str, Any] = {"api_keys": tuple(_api_key(i, e) for i, e in enumerate(keys))}
    for name, kind in _LIMITS.items():
        if name not in table:
            continue
        value = table[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
            raise ConfigError(f"[server] {name}: expected a positive number, got {value!r:.40}")
        if kind is int and value != int(value):
            raise ConfigError(f"[server] {name}: expected a whole number, got {value!r}")
        values[name] = kind(value)
    return ServerSettings(**values)
