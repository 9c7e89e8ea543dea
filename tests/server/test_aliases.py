"""A model reference with an alias (``id@alias``) serves the version the alias names, older than the
newest one included; an alias nobody set is a 404."""

from __future__ import annotations

from collections.abc import Iterator

import attrs
import pytest

from hotcrm_ai import AICloud
from hotcrm_ai.config import Settings
from hotcrm_ai_server.auth import Principal
from hotcrm_ai_server.dataplane import DataPlane, InferRequest
from hotcrm_ai_server.errors import NotFound
from hotcrm_ai_server.settings import ServerSettings
from hotcrm_ai_server.tensors import Tensor


@pytest.fixture
def plane() -> Iterator[DataPlane]:
    with AICloud(Settings()) as ai:
        current = ai.registry.get("sentiment-analysis-v1")
        ai.registry.register(attrs.evolve(current, version="2.0.0"))  # a newer version beside it
        ai.registry.set_alias("sentiment-analysis-v1", "champion", current.version)
        dp = DataPlane(ai, ServerSettings())
        dp.prepare()
        yield dp


def _request(text: str) -> InferRequest:
    return InferRequest(inputs=(Tensor(name="text", datatype="BYTES", shape=(1,), data=[text]),))


def test_an_alias_serves_the_version_it_names(plane: DataPlane) -> None:
    anyone = Principal(tenant=None)
    assert plane.cloud.registry.get("sentiment-analysis-v1").version == "2.0.0"
    pinned = plane.infer(anyone, "sentiment-analysis-v1@champion", None, _request("great service, thanks"))
    assert pinned.model_version == "1.0.0"
    served = plane.cloud.predict("sentiment-analysis-v1@champion", {"text": "great service, thanks"}, use_cache=False)
    assert served.model_version == "1.0.0"  # what the server asked for is what the alias names
    newest = plane.infer(anyone, "sentiment-analysis-v1", None, _request("great service, thanks"))
    assert newest.model_version == "2.0.0"
    assert plane.model_ready(anyone, "sentiment-analysis-v1@champion", None) is True


def test_an_unknown_alias_is_not_found(plane: DataPlane) -> None:
    with pytest.raises((NotFound, LookupError)):
        plane.infer(Principal(tenant=None), "sentiment-analysis-v1@nobody", None, _request("hi"))
