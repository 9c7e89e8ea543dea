"""One real ``hotcrm-ai serve`` per test module, with two tenants' keys; an in-process ``AICloud`` to
compare answers with."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from hotcrm_ai import AICloud
from support.server import ServerProcess

KEYS = {
    "HOTCRM_AI_TEST_KEY_ACME": "acme-" + secrets.token_hex(16),
    "HOTCRM_AI_TEST_KEY_GLOBEX": "globex-" + secrets.token_hex(16),
}
CONFIG = """
[server]
api_keys = [
  { key = { env = "HOTCRM_AI_TEST_KEY_ACME" }, tenant = "acme", models = ["*"] },
  { key = { env = "HOTCRM_AI_TEST_KEY_GLOBEX" }, tenant = "globex", models = ["sentiment-analysis-v1", "lead-scoring-v1"] },
]
max_body_bytes = 2000000
"""


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
    config.write_text(CONFIG)
    proc = ServerProcess(config, KEYS).start(home / "server.log")
    yield proc
    proc.stop()


@pytest.fixture(scope="session")
def server_log(server: ServerProcess) -> Path:
    assert server.log_path is not None
    return server.log_path


@pytest.fixture(scope="session")
def cloud() -> Iterator[AICloud]:
    with AICloud.from_config(None) as ai:
        yield ai
