"""Registering the plugin is cheap: boto3/botocore load only when a SageMaker provider is built."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

SDK = ("boto3", "botocore", "s3transfer")


def _run(code: str) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_import_and_loading_every_plugin_does_not_import_boto3() -> None:
    out = _run(
        f"""
        import json, sys
        import hotcrm_ai
        import hotcrm_ai_sagemaker
        from hotcrm_ai.plugins import PluginHost
        host = PluginHost(load_entrypoints=True)
        spec = host.providers["aws-sagemaker"]
        records = {{r.name: r.registered for r in host.describe()}}
        sdk = sorted(m for m in sys.modules if m.split(".")[0] in {SDK!r})
        print(json.dumps({{"sdk": sdk, "description": spec.description, "records": records}}))
        """
    )
    assert out["sdk"] == []
    assert "SageMaker" in out["description"]
    assert out["records"]["sagemaker"] == {"providers": ["aws-sagemaker"]}


def test_building_the_provider_is_what_imports_boto3() -> None:
    out = _run(
        f"""
        import json, sys
        from hotcrm_ai.types import ProviderConfig
        from hotcrm_ai_sagemaker.provider import provider_spec
        spec = provider_spec()
        before = sorted(m for m in sys.modules if m.split(".")[0] in {SDK!r})
        spec.factory(ProviderConfig(provider="aws-sagemaker", config={{"region": "eu-west-1"}}))
        after = "boto3" in sys.modules and "botocore" in sys.modules
        print(json.dumps({{"before": before, "after": after}}))
        """
    )
    assert out == {"before": [], "after": True}
