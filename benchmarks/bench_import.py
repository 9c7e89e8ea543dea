"""Start-up cost: `import hotcrm_ai` and `hotcrm-ai --help` (every installed plugin) vs `import numpy`.

Goal (issue 2): each at most 1.5x of `python -c "import numpy"`, measured in the same run.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def wall(cmd: list[str], runs: int = 15) -> float:
    subprocess.run(cmd, capture_output=True, check=True)  # warm the OS file cache
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    py = sys.executable
    cli = shutil.which("hotcrm-ai") or str(Path(py).parent / "hotcrm-ai")
    numpy_ms = wall([py, "-c", "import numpy"])
    import_ms = wall([py, "-c", "import hotcrm_ai"])
    help_ms = wall([cli, "--help"])
    print("start-up (median of 15 runs, wall clock, ms)")
    for name, ms in (("python -c 'import hotcrm_ai'", import_ms), ("hotcrm-ai --help", help_ms)):
        print(
            f"  {name:<32} {ms:8.1f} ms   vs import numpy {numpy_ms:8.1f} ms   ratio {ms / numpy_ms:5.2f}x  (goal <= 1.5x)"
        )


if __name__ == "__main__":
    main()
