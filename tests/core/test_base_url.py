"""One rule for where an HTTP API provider sends requests, one message when it is wrong."""

from __future__ import annotations

import attrs
import pytest

from hotcrm_ai.base_url import http_url, resolve_base_url
from hotcrm_ai.errors import ConfigError
from hotcrm_ai.options import parse_options
from hotcrm_ai.secrets import Secret
from hotcrm_ai.types import ProviderConfig

DEFAULT = "https://api.example.com/v1"


def _url(endpoint: object = None, configured: object = None, env: dict[str, str] | None = None, **kw: object) -> str:
    config = ProviderConfig(provider="acme", endpoint=endpoint)  # type: ignore[arg-type]
    return resolve_base_url(config, configured, env_var="ACME_BASE_URL", default=DEFAULT, env=env or {}, **kw)  # type: ignore[arg-type]


def test_endpoint_then_option_then_environment_then_default(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {"ACME_BASE_URL": "http://env.example/v1/"}
    assert _url(" http://ep.example/v1/ ", "http://cfg.example", env) == "http://ep.example/v1"
    assert _url(None, Secret("http://cfg.example/"), env) == "http://cfg.example"
    assert _url(None, None, env) == "http://env.example/v1"
    assert _url() == DEFAULT
    monkeypatch.setenv("ACME_ENDPOINT", "https://gateway.example/acme/")
    assert _url({"env": "ACME_ENDPOINT"}) == "https://gateway.example/acme"
    assert _url("http://x.example/v1", tidy=lambda u: u.removesuffix("/v1")) == "http://x.example"


@pytest.mark.parametrize(
    ("args", "where"),
    [
        (("ftp://proxy.example/?key=sk-secret-1",), "[providers.acme] endpoint"),
        ((None, Secret("proxy.example?key=sk-secret-1")), "[providers.acme.config] base_url"),
        ((None, None, {"ACME_BASE_URL": "proxy.example?key=sk-secret-1"}), "ACME_BASE_URL"),
    ],
)
def test_one_message_naming_the_source_never_the_value(args: tuple[object, ...], where: str) -> None:
    with pytest.raises(ConfigError) as info:
        _url(*args)
    assert str(info.value) == f"{where}: expected an http(s) URL such as {DEFAULT}, got a value without http(s)://"
    assert "sk-secret-1" not in str(info.value)


def test_an_unset_variable_is_named_when_resolved_not_when_declared(monkeypatch: pytest.MonkeyPatch) -> None:
    @attrs.frozen
    class Options:
        base_url: Secret | None = attrs.field(default=None, validator=http_url(DEFAULT))

    monkeypatch.delenv("ACME_UNSET_URL", raising=False)
    options = parse_options(Options, {"base_url": {"env": "ACME_UNSET_URL"}}, section="providers.acme.config")
    with pytest.raises(ConfigError, match="ACME_UNSET_URL is not set"):
        _url(None, options.base_url)
    with pytest.raises(ConfigError, match=r"^Invalid \[providers.acme.config\]: base_url: expected an http\(s\) URL"):
        parse_options(Options, {"base_url": "api.example.com"}, section="providers.acme.config")
