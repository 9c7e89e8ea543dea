"""One real ``hotcrm-ai serve`` per test module, with two tenants' keys; an in-process ``AICloud`` to
compare answers with."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.server import ServerProcess

from hotcrm_ai import AICloud

KEYS = {
    "HOTCRM_AI_TEST_KEY_ACME": "acme-" + secrets.token_hex(16),
    "HOTCRM_AI_TEST_KEY_GLOBEX": "globex-" + secrets.token_hex(16),
}
CONFIG = """
[server]
max_body_bytes = 2000000

[[server.api_keys]]
key = { env = "HOTCRM_AI_TEST_KEY_ACME" }
tenant = "acme"
models = ["*"]

[[server.api_keys]]
key = { env = "HOTCRM_AI_TEST_KEY_GLOBEX" }
tenant = "globex"
models = ["sentiment-analysis-v1", "lead-scoring-v1"]

[registry]
path = "{registry}"
"""


def _extra_models(path: Path) -> None:
    """An older, deprecated version of the sentiment model and a copy of it still in testing: models
    the server knows but must not serve."""
    import attrs

    from hotcrm_ai.registry import ModelRegistry

    with AICloud() as ai:
        sentiment = ai.registry.get("sentiment-analysis-v1")
    registry = ModelRegistry(path)
    registry.register(attrs.evolve(sentiment, version="0.9.0", status="deprecated"))
    registry.register(attrs.evolve(sentiment, id="sentiment-testing", status="testing"))


@pytest.fixture(scope="session")
def acme_key() -> str:
    return KEYS["HOTCRM_AI_TEST_KEY_ACME"]


@pytest.fixture(scope="session")
def globex_key() -> str:
    return KEYS["HOTCRM_AI_TEST_KEY_GLOBEX"]


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    home = tmp_path_factory.mktemp("server")
    config = home / "hotcrm-ai.toml"
    registry = home / "registry.json"
    _extra_models(registry)
    config.write_text(CONFIG.replace("{registry}", str(registry)))
    proc = ServerProcess(config, KEYS).start(home / "server.log")
    yield proc
    proc.stop()


@pytest.fixture(scope="session")
def server_log(server: ServerProcess) -> Path:
    assert server.log_path is not None
    return server.log_path


@pytest.fixture(scope="session")
def cloud() -> Iterator[AICloud]:
    with AICloud() as ai:
        yield ai
