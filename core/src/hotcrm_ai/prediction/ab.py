"""Sticky A/B assignment: ``traffic_percentage`` of traffic stays on the model
carrying the block, the rest goes to the champion), but by a hash of a stable subject key instead of a
random draw, so one customer always sees one variant."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from typing import Any

from hotcrm_ai.registry import ModelRegistry
from hotcrm_ai.types import ModelConfig

log = logging.getLogger("hotcrm_ai.prediction")

CHALLENGER = "challenger"
CHAMPION = "champion"


def subject_key(context: Mapping[str, Any], features: Mapping[str, Any], canonical: str | bytes | None = None) -> str:
    """``context['subject']`` when given, else tenant + canonical features (``canonical`` when the
    caller already encoded them, so a request encodes its features once)."""
    subject = context.get("subject")
    if subject is not None:
        return f"s:{subject}"
    if isinstance(canonical, bytes):
        canonical = canonical.decode("utf-8")
    if canonical is None:
        canonical = json.dumps(features, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return f"t:{context.get('tenant')}:{canonical}"


def bucket(experiment: str, key: str) -> float:
    """A uniform position in [0, 100) for ``key`` within one experiment (the model id salts it, so
    the same customer is not always in the low bucket of every test)."""
    digest = hashlib.blake2b(f"{experiment}\x00{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64 * 100.0


def assign(
    model: ModelConfig,
    registry: ModelRegistry,
    context: Mapping[str, Any],
    features: Mapping[str, Any],
    canonical: str | bytes | None = None,
) -> tuple[ModelConfig, str | None]:
    """The model to serve and the variant name (None when no test applies)."""
    ab = model.ab_test
    if ab is None or not ab.enabled or not ab.champion_model_id:
        return model, None
    if bucket(model.id, subject_key(context, features, canonical)) < ab.traffic_percentage:
        return model, CHALLENGER
    champion = registry.find(ab.champion_model_id)
    if champion is None or champion.status != "active" or champion.id == model.id:
        state = "missing" if champion is None else f"status {champion.status}"
        log.error(
            "A/B config error on %s: champion %s is %s; serving the challenger",
            model.id,
            ab.champion_model_id,
            state if champion is None or champion.id != model.id else "the model itself",
        )
        return model, CHALLENGER
    return champion, CHAMPION
