"""How a request names a model: ``name`` plus an optional version from the URL (or gRPC field).

A name may carry an alias (``lead-scoring@champion``) where the registry keeps aliases; this is the
one place that splits a reference, so wiring aliases in later touches nothing else."""

from __future__ import annotations

import attrs


@attrs.frozen
class ModelRef:
    model_id: str
    version: str | None = None
    alias: str | None = None


def parse_model_ref(name: str, version: str | None = None) -> ModelRef:
    """``name[@alias]`` and an optional version (empty means none, as gRPC sends it)."""
    model_id, sep, alias = name.partition("@")
    return ModelRef(model_id=model_id, version=version or None, alias=alias if sep else None)
