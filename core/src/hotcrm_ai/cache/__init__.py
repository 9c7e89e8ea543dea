"""Prediction caching: key construction, the in-memory backend, and the manager that survives a dead backend.

``CacheManager`` is what the prediction service uses; backends (``memory`` here, ``redis`` in
hotcrm-ai-plugins) register through ``register_cache_backends``. See docs/cache.md.
"""

from hotcrm_ai.cache.keys import cache_key, canonical_json, features_digest, safe_component
from hotcrm_ai.cache.manager import CacheManager, Lookup
from hotcrm_ai.cache.memory import MemoryBackend
from hotcrm_ai.cache.stats import CacheStats, redact

__all__ = [
    "CacheManager",
    "CacheStats",
    "Lookup",
    "MemoryBackend",
    "cache_key",
    "canonical_json",
    "features_digest",
    "redact",
    "safe_component",
]
