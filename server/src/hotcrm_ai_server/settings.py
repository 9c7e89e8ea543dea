"""``[server]`` of ``hotcrm-ai.toml``: API keys and limits, declared here so the core never needs to
know them. The server registers the table (``register_sections``), so ``AICloud`` checks it at start
under the one options policy (``hotcrm_ai.options``: an unknown key names the closest valid one, a
wrong type names the key), in every process reading the file, not only in ``hotcrm-ai serve``.
Keys must be ``{env = "NAME"}`` references: a key written into the file would be shown by
``hotcrm-ai config show`` and land in version control."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from hotcrm_ai.descriptors import SectionSpec
from hotcrm_ai.options import OptionError, env_only, parse_options, positive
from hotcrm_ai.secrets import Secret


def _tenant(inst: Any, attribute: attrs.Attribute[Any], value: str) -> None:
    if not value or len(value) > 200:
        raise OptionError(attribute.name, "a non-empty string of at most 200 characters", value)


def _model_ids(inst: Any, attribute: attrs.Attribute[Any], value: tuple[str, ...]) -> None:
    if not value or not all(value):
        raise OptionError(attribute.name, 'a non-empty list of model ids (non-empty strings) or ["*"]', list(value))


@attrs.frozen
class ApiKey:
    """One key: the secret reference, the tenant it stands for and the models it may use."""

    key: Secret = attrs.field(validator=env_only, repr=False)
    tenant: str = attrs.field(validator=_tenant)
    models: tuple[str, ...] = attrs.field(default=("*",), validator=_model_ids)

    def allows(self, model_id: str) -> bool:
        return "*" in self.models or model_id in self.models


@attrs.frozen
class ServerSettings:
    api_keys: tuple[ApiKey, ...] = ()
    max_body_bytes: int = attrs.field(default=16 * 1024 * 1024, validator=positive)
    max_rows: int = attrs.field(default=100_000, validator=positive)
    request_timeout_s: float = attrs.field(default=60.0, validator=positive)
    graceful_timeout_s: float = attrs.field(default=30.0, validator=positive)
    threads: int = attrs.field(default=16, validator=positive)  # worker threads for predictions (REST and gRPC)


def server_settings(table: Mapping[str, Any]) -> ServerSettings:
    """Build and check ``ServerSettings`` from the raw ``[server]`` table; errors name the key."""
    return parse_options(ServerSettings, table, section="server")


def section_spec() -> SectionSpec:
    return SectionSpec("server", server_settings, "API keys and limits of hotcrm-ai serve", options=ServerSettings)
