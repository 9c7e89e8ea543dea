"""The entry-point scan is cached per set of installed distributions and redone when that set changes."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from hotcrm_ai import entrypoints
from hotcrm_ai.entrypoints import entry_points, fingerprint


def _scan(group: str) -> list[tuple[str, str, str | None]]:
    from importlib import metadata

    return sorted((ep.name, ep.value, ep.dist.name if ep.dist else None) for ep in metadata.entry_points(group=group))


def test_cached_scan_equals_a_fresh_one_and_follows_installs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTCRM_AI_HOME", str(tmp_path / "home"))
    first = entry_points("console_scripts", env={})
    cache = tmp_path / "home" / "entry-points-console_scripts.json"
    doc = json.loads(cache.read_text())
    assert doc["fingerprint"] == fingerprint() and len(doc["entry_points"]) == len(first)
    again = entry_points("console_scripts", env={})
    assert sorted((f.name, f.value, f.distribution) for f in again) == _scan("console_scripts")

    # a distribution appears on the path: new fingerprint, fresh scan that finds it
    site = tmp_path / "site"
    info = site / "extra_dist-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: extra-dist\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[console_scripts]\nextra-tool = extra_mod:main\n")
    monkeypatch.setattr(sys, "path", [*sys.path, str(site)])
    after = entry_points("console_scripts", env={})
    assert json.loads(cache.read_text())["fingerprint"] == fingerprint() != doc["fingerprint"]
    assert ("extra-tool", "extra_mod:main", "extra-dist") in {(f.name, f.value, f.distribution) for f in after}


def test_a_broken_cache_file_means_a_plain_scan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTCRM_AI_HOME", str(tmp_path))
    (tmp_path / "entry-points-console_scripts.json").write_text("{not json")
    found = entry_points("console_scripts", env={})
    assert sorted((f.name, f.value, f.distribution) for f in found) == _scan("console_scripts")
    off = entry_points("console_scripts", env={entrypoints.CACHE_ENV: "0"})
    assert sorted((f.name, f.value, f.distribution) for f in off) == _scan("console_scripts")


def test_the_core_version_the_plugin_host_reports_is_the_installed_distributions() -> None:
    from importlib import metadata

    import hotcrm_ai
    from hotcrm_ai.plugins import PluginHost

    host = PluginHost(load_entrypoints=False)
    assert hotcrm_ai.__version__ == metadata.version("hotcrm-ai")
    assert {r.version for r in host.records.values() if r.source == "builtin"} == {hotcrm_ai.__version__}
