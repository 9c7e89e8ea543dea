"""Start-up cost: `import hotcrm_ai` and `hotcrm-ai --help` (every installed plugin) vs `import numpy`.

Goal (issue 13): each at most 1.2x of `python -c "import numpy"`, measured in the same run, in this
environment as installed (it prints how many distributions that is). `hotcrm-ai --help` is measured
with the entry-point cache warm (the usual case) and with it off (``HOTCRM_AI_ENTRYPOINT_CACHE=0``:
every start scans every distribution's metadata).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def interleaved(cmds: dict[str, tuple[list[str], dict[str, str] | None]], runs: int = 21) -> dict[str, float]:
    """Median wall time (ms) of each command, run in turns (one of each per round) so that a change in
    the machine's load during the run falls on every command alike."""
    for cmd, env in cmds.values():  # warm the OS file cache (and the entry-point cache)
        subprocess.run(cmd, capture_output=True, check=True, env=env)
    times: dict[str, list[float]] = {name: [] for name in cmds}
    for _ in range(runs):
        for name, (cmd, env) in cmds.items():
            start = time.perf_counter()
            subprocess.run(cmd, capture_output=True, check=True, env=env)
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) * 1000 for name, t in times.items()}


def main() -> None:
    py = sys.executable
    own = Path(py).parent / "hotcrm-ai"  # this environment's script, not another one on PATH
    cli = str(own) if own.exists() else shutil.which("hotcrm-ai") or "hotcrm-ai"
    from importlib import metadata

    dists = len({d.metadata["Name"] for d in metadata.distributions()})
    uncached = {**os.environ, "HOTCRM_AI_ENTRYPOINT_CACHE": "0"}
    ms = interleaved(
        {
            "numpy": ([py, "-c", "import numpy"], None),
            "import": ([py, "-c", "import hotcrm_ai"], None),
            "help": ([cli, "--help"], None),
            "help_scan": ([cli, "--help"], uncached),
        }
    )
    base = ms["numpy"]
    print(f"start-up (median of 21 interleaved runs, wall clock, ms); {dists} distributions installed; {cli}")
    print(f"  import numpy: {base:.1f} ms")
    for name, key, goal in (
        ("python -c 'import hotcrm_ai'", "import", "<= 1.2x"),
        ("hotcrm-ai --help (scan cached)", "help", "<= 1.2x"),
        ("hotcrm-ai --help (scan every time)", "help_scan", "none: what the cache saves"),
    ):
        print(
            f"  {name:<36} {ms[key]:8.1f} ms   vs import numpy {base:8.1f} ms   ratio {ms[key] / base:5.2f}x  (goal {goal})"
        )


if __name__ == "__main__":
    main()
