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


def wall(cmd: list[str], runs: int = 15, env: dict[str, str] | None = None) -> float:
    subprocess.run(cmd, capture_output=True, check=True, env=env)  # warm the OS file cache (and ours)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=True, env=env)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    py = sys.executable
    cli = shutil.which("hotcrm-ai") or str(Path(py).parent / "hotcrm-ai")
    from importlib import metadata

    dists = len({d.metadata["Name"] for d in metadata.distributions()})
    uncached = {**os.environ, "HOTCRM_AI_ENTRYPOINT_CACHE": "0"}
    numpy_ms = wall([py, "-c", "import numpy"])
    import_ms = wall([py, "-c", "import hotcrm_ai"])
    help_ms = wall([cli, "--help"])
    help_scan_ms = wall([cli, "--help"], env=uncached)
    numpy_again_ms = wall([py, "-c", "import numpy"])  # measured on both sides of ours: drift shows
    print(f"start-up (median of 15 runs, wall clock, ms); {dists} distributions installed")
    print(f"  import numpy: {numpy_ms:.1f} ms before, {numpy_again_ms:.1f} ms after")
    base = (numpy_ms + numpy_again_ms) / 2
    for name, ms, goal in (
        ("python -c 'import hotcrm_ai'", import_ms, "<= 1.2x"),
        ("hotcrm-ai --help (scan cached)", help_ms, "<= 1.2x"),
        ("hotcrm-ai --help (scan every time)", help_scan_ms, "none: what the cache saves"),
    ):
        print(f"  {name:<36} {ms:8.1f} ms   vs import numpy {base:8.1f} ms   ratio {ms / base:5.2f}x  (goal {goal})")


if __name__ == "__main__":
    main()
