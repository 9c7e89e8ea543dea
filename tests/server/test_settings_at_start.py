"""``[server]`` is checked when ``AICloud`` starts (the server declares it through
``register_sections``), under the same policy as every other table: a typo in it fails any process
reading the file, not only ``hotcrm-ai serve``."""

from __future__ import annotations

from pathlib import Path

import pytest

import hotcrm_ai_server
from hotcrm_ai import AICloud
from hotcrm_ai.config import load_settings, settings_from_dict
from hotcrm_ai.errors import ConfigError


def _start(server: dict[str, object], *, with_server: bool = True) -> AICloud:
    plugins = [hotcrm_ai_server] if with_server else []
    return AICloud(settings_from_dict({"server": server}), plugins=plugins, load_entrypoints=False)


@pytest.mark.parametrize(
    ("server", "message"),
    [
        ({"max_row": 10}, "[server] unknown key 'max_row'; did you mean `max_rows`?"),
        ({"threads": "8"}, "Invalid [server]: threads: expected an integer, got str"),
        ({"request_timeout_s": 0}, "Invalid [server]: request_timeout_s: expected a number > 0, got 0"),
        (
            {"api_keys": [{"key": {"env": "K"}, "tenant": "acme", "model": ["*"]}]},
            "[server.api_keys[0]] unknown key 'model'; did you mean `models`?",
        ),
        (
            {"api_keys": [{"key": "sk-literal-key-1234", "tenant": "acme"}]},
            'Invalid [server]: api_keys[0].key: expected {env = "NAME"} (never the secret itself)',
        ),
    ],
)
def test_a_bad_server_table_stops_aicloud(server: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        _start(server)
    assert str(info.value).startswith(message), str(info.value)
    assert "sk-literal-key-1234" not in str(info.value)


def test_a_config_file_with_a_server_typo_fails_at_start_through_the_installed_plugin(tmp_path: Path) -> None:
    path = tmp_path / "hotcrm-ai.toml"
    path.write_text('[store]\nurl = "memory"\n\n[server]\ngraceful_timeout = 5\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"unknown key 'graceful_timeout'; did you mean `graceful_timeout_s`\?"):
        AICloud(load_settings(path))  # entry points: the installed hotcrm-ai-server declares [server]


def test_without_the_server_plugin_a_server_table_is_refused_and_a_good_one_starts() -> None:
    with pytest.raises(ConfigError, match=r"^\[server\]: no installed plugin reads this section"):
        _start({"threads": 4}, with_server=False)
    with _start({"threads": 4, "api_keys": [{"key": {"env": "K"}, "tenant": "acme"}]}) as ai:
        assert ai.plugins.records["hotcrm_ai_server"].registered == {"sections": ["server"]}
