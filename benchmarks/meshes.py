"""Each mesh implementation side by side: per stack file, its resources, the median time to run
the program and render it under mocks, and the requests it deploys (`review.footprint`).

Run from the project root: `.venv/bin/python benchmarks/meshes.py [--runs N]`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from review.footprint import stack_footprint
from review.program import run_stack
from review.render import render_text
from review.stacks import stack_names


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="renders per stack after a warm-up (default 5)")
    arguments = parser.parse_args()

    run_stack("dev")  # imports, once
    print(f"{'stack':<14} {'mesh':<14} {'resources':>9} {'render ms':>10} {'CPU':>7} {'MiB':>6}")
    for stack in stack_names():
        timings = []
        for _ in range(arguments.runs):
            started = time.perf_counter()
            run = run_stack(stack)
            render_text(run, stack)
            timings.append(time.perf_counter() - started)
        total = stack_footprint(run).total.describe()
        print(
            f"{stack:<14} {run.outputs['mesh']:<14} {len(run.resources):>9} "
            f"{statistics.median(timings) * 1000:>10.0f} {total['cpu']:>7} {total['memoryMiB']:>6}"
        )


if __name__ == "__main__":
    main()
