"""How the program's cost grows with the number of apps: resources registered and wall time.

Runs the real program under Pulumi mocks on the dev stack file with 1, 10, 50 and 200 declared
apps and prints one row per count. Run: `.venv/bin/python benchmarks/apps_scaling.py`.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).resolve().parent.parent / "tests")]

from stack_harness import run_program, stack_config  # noqa: E402

APP_COUNTS = (1, 10, 50, 200)
REPEATS = 3


def declared_apps(count: int) -> list[dict]:
    return [
        {
            "name": f"app-{index}",
            "namespace": f"team-{index % 10}",
            "ingress": {"host": f"app-{index}.example.local"},
            "trafficClient": {"enabled": True},
        }
        for index in range(count)
    ]


def main() -> None:
    print(f"{'apps':>5} {'resources':>10} {'median wall s':>14} {'ms per app':>11}")
    for count in APP_COUNTS:
        config = stack_config("dev", {"servicemesh:apps": declared_apps(count)})
        timings, resources = [], 0
        for _ in range(REPEATS):
            started = time.perf_counter()
            run = run_program(config, stack="dev")
            timings.append(time.perf_counter() - started)
            assert run.error is None, run.error
            resources = len(run.resources)
        median = statistics.median(timings)
        print(f"{count:>5} {resources:>10} {median:>14.3f} {1000 * median / count:>11.1f}")


if __name__ == "__main__":
    main()
