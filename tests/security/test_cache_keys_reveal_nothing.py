"""Attack: someone who can list the Redis keys hashes a guessed input (a customer's text) to confirm
it was asked. With keyed hashes that fails; with another deployment's secret too."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import uuid
from pathlib import Path

import pytest
import redis

from hotcrm_ai import AICloud, hookimpl
from hotcrm_ai.config import CacheSettings, Settings
from hotcrm_ai_plugins.redis_cache import backend_spec

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


class _RedisPlugin:
    __name__ = "security-redis"

    @hookimpl
    def register_cache_backends(self, register):  # type: ignore[no-untyped-def]
        register(backend_spec())


def test_a_guessed_input_cannot_be_confirmed_from_a_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTCRM_AI_HOME", str(tmp_path))
    namespace = f"sec-{uuid.uuid4().hex[:10]}"
    guess = {"text": "Please cancel my account, I am moving to a competitor"}
    settings = Settings(cache=CacheSettings(backend="redis", namespace=namespace, options={"url": REDIS_URL}))
    client = redis.Redis.from_url(REDIS_URL)
    try:
        with AICloud(settings, plugins=[_RedisPlugin()]) as ai:
            assert ai.predict("sentiment-analysis-v1", guess).cached is False
            assert ai.predict("sentiment-analysis-v1", guess).cached is True  # it is in Redis
        keys = [k.decode() for k in client.scan_iter(match=f"*{namespace}*")]
        assert len(keys) == 1
        text = json.dumps(guess, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        digest = keys[0].rsplit(":", 1)[1]
        assert digest != hashlib.sha256(text).hexdigest()
        assert digest != hmac.new(b"some other deployment secret", text, hashlib.sha256).hexdigest()
        assert "cancel" not in keys[0] and ":v2:" in keys[0]
        value = client.get(keys[0]) or b""
        assert b"cancel" not in value  # the value holds the answer, not the question
    finally:
        for k in client.scan_iter(match=f"*{namespace}*"):
            client.delete(k)
