"""Secrets never show in repr, str, JSON, logs or errors."""

from __future__ import annotations

import json
import logging
import pickle

import pytest

from hotcrm_ai import ModelConfig, ProviderConfig, Secret
from hotcrm_ai.converter import unstructure
from hotcrm_ai.errors import ConfigError

PLANTED = "sk-PLANTEDsecretVALUE-do-not-leak-123"


def test_secret_hides_its_value(caplog: pytest.LogCaptureFixture) -> None:
    s = Secret(PLANTED)
    caplog.set_level(logging.DEBUG)
    logging.getLogger("t").info("config %s %r %s", s, s, f"{s}")
    for text in (repr(s), str(s), f"{s}", f"{s!r}", caplog.text, json.dumps(unstructure(s))):
        assert PLANTED not in text
    assert s.reveal() == PLANTED
    with pytest.raises(TypeError):
        pickle.dumps(s)


def test_provider_and_model_configs_redact() -> None:
    pc = ProviderConfig(provider="openai", credentials={"api_key": PLANTED, "org": {"env": "ORG"}})
    model = ModelConfig(id="m", name="M", type="nlp", provider="openai", provider_config=pc)
    for text in (repr(pc), str(model), json.dumps(unstructure(model))):
        assert PLANTED not in text
    assert unstructure(pc)["credentials"]["org"] == {"env": "ORG"}


def test_env_reference_resolves_lazily(monkeypatch: pytest.MonkeyPatch) -> None:
    s = Secret(env="HOTCRM_TEST_KEY")
    monkeypatch.delenv("HOTCRM_TEST_KEY", raising=False)
    assert not s.is_set()
    with pytest.raises(ConfigError, match="HOTCRM_TEST_KEY is not set"):
        s.reveal()
    monkeypatch.setenv("HOTCRM_TEST_KEY", PLANTED)
    assert s.reveal() == PLANTED
    assert PLANTED not in repr(s)


def test_redaction_mark_is_not_a_secret() -> None:
    with pytest.raises(ConfigError, match="redaction mark"):
        ProviderConfig(provider="x", credentials={"k": "**********"})


def test_redact_masks_truncated_and_masked_echoes_of_a_key() -> None:
    from hotcrm_ai.secrets import redact

    key = "sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123"
    echoes = [
        "Incorrect API key provided: sk-proj-********************************0123.",
        "key sk-proj-AbCd... was rejected",
        "the key ending in ...Yz0123 is revoked",
        "saw GhIjKlMnOp in the header",
    ]
    for text in echoes:
        shown = redact(text, [key])
        assert "sk-proj-" not in shown and "0123" not in shown and "GhIjKlMn" not in shown, shown
    assert redact("an ordinary sentence about tokens and keys", [key]) == "an ordinary sentence about tokens and keys"
