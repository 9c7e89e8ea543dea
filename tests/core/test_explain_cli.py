"""``hotcrm-ai explain`` / ``compare``: the commands on a real AICloud serving a plugin model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import numpy as np
from click.testing import CliRunner
from support.explain import FuncProvider, numeric_encoder

from hotcrm_ai import hookimpl
from hotcrm_ai.cli import explain as explain_cli
from hotcrm_ai.cli.context import CLIContext
from hotcrm_ai.config import Settings
from hotcrm_ai.descriptors import ProviderSpec
from hotcrm_ai.types import FeatureSpec, ModelConfig

NAMES = ["seats", "tickets", "nps"]


class _Plugin:
    @hookimpl
    def register_providers(self, register: Any) -> None:
        register(
            ProviderSpec(
                "test-func",
                lambda config: FuncProvider(
                    lambda x: 2 * x[:, 0] - 3 * x[:, 1] + x[:, 0] * x[:, 2],
                    numeric_encoder(NAMES),
                    wrap=lambda v: {"score": v, "band": "high" if v > 10 else "low"},
                ),
            )
        )

    @hookimpl
    def register_models(self, register: Any) -> None:
        register(
            ModelConfig(
                id="cli-model",
                name="cli",
                type="regression",
                provider="test-func",
                features=[
                    FeatureSpec("seats", default=0),
                    FeatureSpec("tickets", label="Open Tickets", default=0),
                    FeatureSpec("nps", default=0),
                ],
            )
        )


def run(args: list[str]) -> Any:
    from hotcrm_ai.cloud import AICloud

    ctx = CLIContext(config=None, json_output=False, debug=False)
    ctx._cloud = AICloud(Settings(), plugins=[_Plugin()], load_entrypoints=False)

    @click.group()
    @click.pass_context
    def root(c: click.Context) -> None:
        c.obj = ctx

    explain_cli.register(root)
    try:
        return CliRunner().invoke(root, args, catch_exceptions=False)
    finally:
        ctx.close()


def test_explain_prints_text_and_table(tmp_path: Path) -> None:
    f = tmp_path / "f.json"
    f.write_text(json.dumps({"seats": 10, "tickets": 2, "nps": 1}))
    result = run(["explain", "cli-model", "--features", f"@{f}"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "explained:  score = 24  (base value 0)" in out
    assert "method:     exact (exact)" in out
    assert "Positive factors:\n• Seats: 10 (impact: +69%)\n" in out  # 2*10 + 10*1/2 = 25 of 25+6+5
    assert "Negative factors:\n• Open Tickets: 2 (impact: -17%)\n" in out
    assert out.rstrip().splitlines()[-4].split()[:2] == ["feature", "value"]


def test_explain_json_and_compare() -> None:
    result = run(["explain", "cli-model", "--features", '{"seats": 1, "tickets": 0, "nps": 0}', "--json"])
    data = json.loads(result.output)
    assert data["method"] == "exact" and data["output_kind"] == "score"
    assert np.isclose(data["base_value"] + sum(c["contribution"] for c in data["contributions"]), data["output_value"])
    cmp = run(
        [
            "compare",
            "cli-model",
            "--a",
            '{"seats": 1, "tickets": 0, "nps": 0}',
            "--b",
            '{"seats": 1, "tickets": 3, "nps": 0}',
        ]
    )
    assert cmp.exit_code == 0
    assert "• Open Tickets changed from 0 to 3, which decreased the prediction" in cmp.output
