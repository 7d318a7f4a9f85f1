"""How the program's cost grows with the number of apps: resources registered, wall and CPU time.

Runs the real program under Pulumi mocks on the dev stack file with 1 to 500 declared apps, each
in a namespace of its own (the most resources per app) with ingress and a traffic client, and
prints one row per count, then the cost per app as the slope of a least-squares line through the
CPU times (CPU, not wall: the figure that holds on a shared machine).
Run: `.venv/bin/python benchmarks/apps_scaling.py [--runs N] [--counts 1,10,50,200,500]`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).resolve().parent.parent / "tests")]

from stack_harness import run_program, stack_config  # noqa: E402

APP_COUNTS = (1, 10, 50, 200, 500)


def declared_apps(count: int) -> list[dict]:
    return [
        {
            "name": f"app-{index}",
            "namespace": f"team-{index}",
            "ingress": {"host": f"app-{index}.example.local"},
            "trafficClient": {"enabled": True},
        }
        for index in range(count)
    ]


def measure(count: int, runs: int) -> tuple[int, float, float]:
    """Resources registered, and the median wall and CPU seconds of `runs` runs with `count` apps."""
    config = stack_config("dev", {"servicemesh:apps": declared_apps(count)})
    walls, cpus, resources = [], [], 0
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        run = run_program(config, stack="dev")
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
        assert run.error is None, run.error
        resources = len(run.resources)
    return resources, statistics.median(walls), statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1, help="runs per count, the median is printed (default 1)")
    parser.add_argument("--counts", default=",".join(map(str, APP_COUNTS)), help="app counts, comma-separated")
    arguments = parser.parse_args()
    counts = [int(count) for count in arguments.counts.split(",")]

    run_program(stack_config("dev"), stack="dev")  # imports, once
    print(f"{'apps':>5} {'resources':>10} {'wall s':>8} {'CPU s':>7} {'CPU ms per app':>15}")
    cpu_seconds = []
    for count in counts:
        resources, wall, cpu = measure(count, arguments.runs)
        cpu_seconds.append(cpu)
        print(f"{count:>5} {resources:>10} {wall:>8.2f} {cpu:>7.2f} {1000 * cpu / count:>15.1f}")
    if len(counts) > 1:
        slope, intercept = statistics.linear_regression(counts, cpu_seconds)
        print(f"CPU per app (slope): {1000 * slope:.1f} ms; fixed part: {intercept:.2f} s")


if __name__ == "__main__":
    main()
