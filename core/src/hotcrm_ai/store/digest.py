"""A short, stable digest of a model configuration: which exact config served an answer."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hotcrm_ai.types import ModelConfig


def definition(model: ModelConfig) -> dict[str, Any]:
    """The configuration as plain data (secrets stay references or redaction marks)."""
    from hotcrm_ai.converter import unstructure

    data: dict[str, Any] = unstructure(model)
    return data


def config_digest(model: ModelConfig) -> str:
    """SHA-256 (hex, 16 chars) of the canonical JSON of the config without its status, so a status
    change does not look like a new configuration."""
    data = {k: v for k, v in definition(model).items() if k != "status"}
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
