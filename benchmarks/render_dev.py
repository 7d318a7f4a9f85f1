"""How long the dev stack takes to render: the program under mocks plus the YAML render.

Run from the project root: `.venv/bin/python benchmarks/render_dev.py [--runs N]`. The first
render pays for imports (pulumi_kubernetes, pydantic); the median of the rest is the figure.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from review.program import run_stack
from review.render import render_text


def time_render(stack: str) -> tuple[float, int]:
    """Seconds for one run of the program plus its render, and the number of resources."""
    started = time.perf_counter()
    run = run_stack(stack)
    render_text(run, stack)
    return time.perf_counter() - started, len(run.resources)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="renders after the first (default 10)")
    arguments = parser.parse_args()

    first, resources = time_render("dev")
    timings = [time_render("dev")[0] for _ in range(arguments.runs)]
    print(f"dev: {resources} resources")
    print(f"first render (imports included): {first * 1000:.0f} ms")
    print(f"median of {arguments.runs} renders: {statistics.median(timings) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
