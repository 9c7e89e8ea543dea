"""The SDK loads only when the provider is built: not on ``import hotcrm_ai``, not when every installed
plugin registers, not when an ``AICloud`` is assembled. Checked in fresh interpreters."""

from __future__ import annotations

import json
import subprocess
import sys

SCRIPT = """
import json, sys
from hotcrm_ai.types import ModelConfig, ProviderConfig
steps = {}
import hotcrm_ai
steps["import hotcrm_ai"] = "openai" in sys.modules
from hotcrm_ai.plugins import PluginHost
host = PluginHost(load_entrypoints=True, env={})
steps["load all plugins"] = "openai" in sys.modules
steps["provider module loaded"] = "hotcrm_ai_openai.provider" in sys.modules
steps["registered"] = "openai" in host.providers
from hotcrm_ai import AICloud, Settings
cfg = ProviderConfig(provider="openai", endpoint="http://127.0.0.1:9/v1", credentials={"api_key": "sk-x"})
model = ModelConfig(id="sentiment-analysis-llm", name="s", type="nlp", provider="openai")
ai = AICloud(Settings(providers={"openai": cfg}, models=(model,)), env={})
steps["assemble AICloud"] = "openai" in sys.modules
provider = ai.provider_for("sentiment-analysis-llm")
steps["build the provider"] = "openai" in sys.modules
ai.close()
print(json.dumps(steps))
"""


def test_openai_sdk_is_imported_only_when_the_provider_is_built() -> None:
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120, check=True)
    steps = json.loads(out.stdout.strip().splitlines()[-1])
    assert steps == {
        "import hotcrm_ai": False,
        "load all plugins": False,
        "provider module loaded": False,  # registration needs only the descriptor
        "registered": True,
        "assemble AICloud": False,
        "build the provider": True,  # the positive control: the check can see the SDK when it is there
    }
