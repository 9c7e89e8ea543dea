"""API keys to tenants. A request's tenant comes from its key, never from its body; keys are compared
in constant time against every configured key (so timing does not reveal which prefix matched) and
are never logged or echoed."""

from __future__ import annotations

import hmac
from collections.abc import Callable

import attrs

from hotcrm_ai_server.errors import Forbidden, Unauthenticated
from hotcrm_ai_server.settings import ApiKey


@attrs.frozen
class Principal:
    """Who is asking: the tenant (cache isolation, metrics) and the models its key may use."""

    tenant: str | None
    models: tuple[str, ...] = ("*",)

    def check_model(self, model_id: str) -> None:
        if "*" not in self.models and model_id not in self.models:
            raise Forbidden(f"this API key may not use model {model_id}")


ANONYMOUS = Principal(tenant=None)


class KeyRing:
    """Resolves a presented key to a ``Principal``. With no keys configured every caller is anonymous
    (the server then only listens on loopback unless started with ``--insecure``)."""

    def __init__(self, keys: tuple[ApiKey, ...]) -> None:
        self._keys = keys
        for k in keys:
            k.key.reveal()  # fail at start-up, naming the variable, when a referenced key is unset

    @property
    def enabled(self) -> bool:
        return bool(self._keys)

    def authenticate(self, presented: str | None) -> Principal:
        if not self._keys:
            return ANONYMOUS
        if not presented:
            raise Unauthenticated("missing API key (send 'Authorization: Bearer <key>' or 'X-API-Key')")
        given = presented.encode("utf-8", "surrogatepass")
        match: ApiKey | None = None
        for k in self._keys:  # no early exit: every key is compared
            if hmac.compare_digest(given, k.key.reveal().encode("utf-8")) and match is None:
                match = k
        if match is None:
            raise Unauthenticated("invalid API key")
        return Principal(tenant=match.tenant, models=match.models)


def key_from_headers(get: Callable[[str], str | None]) -> str | None:
    """The key from ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``; ``get`` looks up a
    lower-case header name (Starlette headers, gRPC metadata)."""
    auth = get("authorization")
    if auth:
        scheme, _, value = auth.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    return get("x-api-key") or None
