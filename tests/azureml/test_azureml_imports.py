"""Loading the plugin must not import azure (about 1-2 s) or requests: only the by-name path pays for azure."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import json, sys
    import hotcrm_ai
    from hotcrm_ai.plugins import PluginHost
    from hotcrm_ai.types import ProviderConfig
    host = PluginHost()  # built-ins plus every installed entry point, azureml included
    spec = host.providers["azure-ml"]
    direct = spec.factory(ProviderConfig(provider="azure-ml", endpoint="https://ep.westeurope.inference.ml.azure.com/score",
                                         credentials={"api_key": "k" * 32}))
    by_name = spec.factory(ProviderConfig(provider="azure-ml", config={
        "subscription_id": "s", "resource_group": "rg", "workspace_name": "ws", "endpoint_name": "ep"}))
    checks = {"direct": direct.validate(), "by_name": by_name.validate()}
    azure = [m for m in sys.modules if m == "azure" or m.startswith("azure.")]
    print(json.dumps({"checks": checks, "plugins": sorted(host.records), "azure": azure,
                      "requests": "requests" in sys.modules}))
    """
)


def test_loading_all_plugins_and_validating_does_not_import_azure() -> None:
    proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["checks"] == {"direct": True, "by_name": True}
    assert any("azureml" in name for name in report["plugins"]), report["plugins"]
    assert report["azure"] == []
    assert report["requests"] is False


def test_import_hotcrm_ai_alone_imports_no_sdk() -> None:
    code = (
        "import sys, hotcrm_ai, hotcrm_ai_azureml, hotcrm_ai_azureml.provider; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('azure', 'requests', 'numpy', 'urllib3')))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
