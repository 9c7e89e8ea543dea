"""Model registry: validation, versions, status, history, atomic persistence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hotcrm_ai import ModelConfig, ProviderConfig, Secret
from hotcrm_ai.errors import ModelNotFoundError, RegistryError
from hotcrm_ai.registry import ModelRegistry, version_key


def m(model_id: str = "lead-scoring-v2", version: str = "1.0.0", **kw: object) -> ModelConfig:
    return ModelConfig(id=model_id, name="Lead", type="classification", provider="custom", version=version, **kw)  # type: ignore[arg-type]


def test_register_get_and_duplicates() -> None:
    r = ModelRegistry()
    r.register(m())
    assert r.get("lead-scoring-v2").name == "Lead"
    with pytest.raises(RegistryError, match="already registered"):
        r.register(m())
    with pytest.raises(ModelNotFoundError, match="Model not found: ghost"):
        r.get("ghost")
    with pytest.raises(RegistryError, match="expected a ModelConfig"):
        r.register({"id": "x"})  # type: ignore[arg-type]


def test_newest_active_version_by_default() -> None:
    r = ModelRegistry()
    r.register(m(version="1.9.0"))
    r.register(m(version="1.10.0", status="testing"))
    r.register(m(version="1.2.0"))
    assert r.get("lead-scoring-v2").version == "1.9.0"  # newest *active*
    r.set_status("lead-scoring-v2", "active", version="1.10.0")
    assert r.get("lead-scoring-v2").version == "1.10.0"
    assert [x.version for x in r.versions("lead-scoring-v2")] == ["1.2.0", "1.9.0", "1.10.0"]
    assert version_key("1.10.0") > version_key("1.9.0")


def test_list_filters() -> None:
    r = ModelRegistry()
    r.register(m("a", tags=("sales",)))
    r.register(ModelConfig(id="b", name="B", type="nlp", provider="openai", status="deprecated"))
    assert [x.id for x in r.list()] == ["a", "b"]
    assert [x.id for x in r.list(type="nlp")] == ["b"]
    assert [x.id for x in r.list(status="active")] == ["a"]
    assert [x.id for x in r.list(provider="openai")] == ["b"]
    assert [x.id for x in r.list(tag="sales")] == ["a"]


def test_invalid_models_cannot_be_built() -> None:
    with pytest.raises(ValueError, match="type: expected one of"):
        ModelConfig(id="x", name="X", type="magic", provider="custom")
    with pytest.raises(ValueError, match="status"):
        m(status="retired")
    with pytest.raises(ValueError, match="duplicate names"):
        m(features=[{"name": "a"}, {"name": "a"}])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="id"):
        m(model_id="bad id with spaces")
    with pytest.raises(RegistryError, match="status: expected one of"):
        r = ModelRegistry()
        r.register(m())
        r.set_status("lead-scoring-v2", "gone")


def test_history_is_append_only_with_actor() -> None:
    r = ModelRegistry()
    r.register(m(), actor="alice")
    r.set_status("lead-scoring-v2", "deprecated", actor="bob")
    r.unregister("lead-scoring-v2", actor="carol")
    hist = r.history("lead-scoring-v2")
    assert [(h.action, h.actor) for h in hist] == [
        ("registered", "alice"),
        ("status", "bob"),
        ("unregistered", "carol"),
    ]
    assert hist[1].detail == {"from": "active", "to": "deprecated"}
    with pytest.raises(ModelNotFoundError):
        r.unregister("lead-scoring-v2")


def test_persistence_round_trip_and_atomicity(tmp_path: Path) -> None:
    path = tmp_path / "registry.json"
    r = ModelRegistry(path)
    r.register(m(provider_config=ProviderConfig(provider="custom", credentials={"api_key": {"env": "MY_KEY"}})))
    r.set_status("lead-scoring-v2", "testing")
    doc = json.loads(path.read_text())
    assert doc["schema_version"] == 1 and doc["models"][0]["status"] == "testing"
    assert doc["models"][0]["provider_config"]["credentials"] == {"api_key": {"env": "MY_KEY"}}
    again = ModelRegistry(path)
    assert again.get("lead-scoring-v2").status == "testing"
    assert len(again.history()) == 2
    assert [p.name for p in tmp_path.iterdir()] == ["registry.json"]  # no temp files left behind


def test_literal_secrets_are_never_written(tmp_path: Path) -> None:
    path = tmp_path / "registry.json"
    r = ModelRegistry(path)
    secret = "sk-planted-literal-secret-0000"
    with pytest.raises(RegistryError, match="literal secrets") as info:
        r.register(m(provider_config=ProviderConfig(provider="custom", credentials={"api_key": Secret(secret)})))
    assert secret not in str(info.value)
    assert not path.exists() or secret not in path.read_text()


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        json.dumps({"schema": "other"}),
        json.dumps([1, 2]),
        json.dumps({"schema": "hotcrm-ai/registry", "schema_version": 99}),
        json.dumps({"schema": "hotcrm-ai/registry", "schema_version": 1, "models": [{"id": "x"}]}),
    ],
)
def test_corrupt_or_foreign_files_are_errors_and_untouched(tmp_path: Path, content: str) -> None:
    path = tmp_path / "registry.json"
    path.write_text(content)
    before = path.stat().st_mtime_ns
    with pytest.raises(RegistryError, match=str(path)):
        ModelRegistry(path)
    assert path.read_text() == content and path.stat().st_mtime_ns == before


def test_failed_write_rolls_back_and_leaves_previous_file(tmp_path: Path) -> None:
    path = tmp_path / "registry.json"
    r = ModelRegistry(path)
    r.register(m())
    good = path.read_text()
    with pytest.raises(RegistryError, match="could not be saved"):
        r.register(m(version="2.0.0", parameters={"not_json": object()}))
    assert path.read_text() == good
    assert [x.version for x in r.versions("lead-scoring-v2")] == ["1.0.0"]
    assert [p.name for p in tmp_path.iterdir()] == ["registry.json"]
