"""Two SageMaker models on one endpoint URL, differing only in keys or only in a config value, are
served by their own provider instances (boto3 on the wire to the stand-in, which checks SigV4)."""

from __future__ import annotations

import itertools

import attrs
import pytest
from support.sagemaker_fixtures import aws_env, lead_model, lead_rows, provider_config, standin  # noqa: F401

import hotcrm_ai_sagemaker
from hotcrm_ai import AICloud
from hotcrm_ai.config import PredictionSettings, Settings
from hotcrm_ai.errors import PredictionError

_ids = itertools.count(1)


def cloud(*models):  # type: ignore[no-untyped-def]
    settings = Settings(models=models, prediction=PredictionSettings(retries=0))
    return AICloud(settings, plugins=[hotcrm_ai_sagemaker], load_entrypoints=False)


def test_a_model_with_other_keys_signs_with_its_own(standin, aws_env) -> None:  # noqa: F811
    endpoint = f"identity-{next(_ids)}"
    standin.add_endpoint(endpoint)
    good = lead_model("good", endpoint=endpoint, cache_ttl_s=0, provider_config=provider_config(standin.url))
    other = provider_config(
        standin.url, credentials={"access_key_id": "AKIDWRONGKEY000000", "secret_access_key": "wrong-secret"}
    )
    wrong = lead_model("wrong", endpoint=endpoint, cache_ttl_s=0, provider_config=other)
    row = lead_rows(1)[0]
    with cloud(good, wrong) as ai:
        assert ai.predict("good", row).ok
        with pytest.raises(PredictionError):
            ai.predict("wrong", row)
        assert ai.provider_for("good") is not ai.provider_for("wrong")
    signers = [r.access_key for r in standin.requests if r.endpoint == endpoint]
    assert signers[0] != "AKIDWRONGKEY000000" and signers[-1] == "AKIDWRONGKEY000000"


def test_models_differing_in_a_config_value_get_their_own_settings(standin, aws_env) -> None:  # noqa: F811
    endpoint = f"identity-{next(_ids)}"
    standin.add_endpoint(endpoint)
    fast = lead_model("fast", endpoint=endpoint, provider_config=provider_config(standin.url, max_payload_bytes=64))
    roomy = lead_model("roomy", endpoint=endpoint, provider_config=provider_config(standin.url))
    twin = attrs.evolve(roomy, id="twin")
    with cloud(fast, roomy, twin) as ai:
        assert ai.provider_for("fast").settings.max_payload_bytes == 64  # type: ignore[attr-defined]
        assert ai.provider_for("roomy").settings.max_payload_bytes > 64  # type: ignore[attr-defined]
        assert ai.provider_for("roomy") is ai.provider_for("twin")
