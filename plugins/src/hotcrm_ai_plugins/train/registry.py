"""Feature schemas (FeatureSpec tables) the trainers write into ``registry.json``."""

from __future__ import annotations

from typing import Any


def tabular_features(artifact: dict[str, Any]) -> list[dict[str, Any]]:
    """One FeatureSpec table per input field: categories seen in training, numbers with their bounds."""
    out = []
    for f in artifact["fields"]:
        if f["kind"] == "category":
            is_int = isinstance(f["choices"][0], int)
            out.append(
                {
                    "name": f["name"],
                    "dtype": "integer" if is_int else "string",
                    "choices": sorted(f["choices"], key=str),
                    "description": "one of the categories seen in training",
                }
            )
        else:
            spec: dict[str, Any] = {
                "name": f["name"],
                "dtype": "integer" if f.get("integer") else "number",
                "description": f"training range {f['train_min']:g} to {f['train_max']:g}"
                " (values outside are clipped for scoring)",
            }
            if f.get("minimum") is not None:
                spec["minimum"] = f["minimum"]
            if f.get("maximum") is not None:
                spec["maximum"] = f["maximum"]
            out.append(spec)
    return out
