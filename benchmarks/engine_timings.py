"""How long the real engine takes for this program, against the engine's own floor.

Starts a local control plane, then times, in one run on one machine: `pulumi preview` of an empty
Python program (the floor: CLI, language host and plugin start-up), `pulumi preview` of the dev
stack, its first `pulumi up`, and a no-op `pulumi up`; prints each time and its ratio to the floor.
Needs `make engine` and the published charts (the reference data, SERVICEMESH_REFERENCE_DIR).
Run: `.venv/bin/python benchmarks/engine_timings.py`.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent / "tests"
sys.path[:0] = [str(TESTS.parent), str(TESTS), str(TESTS / "e2e")]

from harness import PublishedCharts, Stack, built_engine, e2e_cluster, make_workspace  # noqa: E402
from reference_data import GATEWAY_API_CRDS, HELM_CHARTS  # noqa: E402


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def main() -> None:
    engine = built_engine()
    charts = PublishedCharts(directory=HELM_CHARTS, gateway_api_crds=GATEWAY_API_CRDS)
    if engine is None or not charts.directory.is_dir():
        sys.exit("needs `make engine` and the published charts (SERVICEMESH_REFERENCE_DIR)")
    with tempfile.TemporaryDirectory() as scratch, e2e_cluster(engine, Path(scratch) / "cluster") as cluster:
        root = Path(scratch)
        workspace = make_workspace(root / "workspace", engine_bin=engine, cluster=cluster)
        empty = root / "workspace" / "empty"
        empty.mkdir()
        (empty / "Pulumi.yaml").write_text(
            f"name: empty\nruntime:\n  name: python\n  options:\n    virtualenv: {sys.prefix}\n"
        )
        (empty / "__main__.py").write_text("")
        floor_stack = Stack("floor", empty, workspace["env"], charts, "dev")
        floor_stack.pulumi("stack", "init", "floor")
        dev = Stack("dev-benchmark", workspace["project"], workspace["env"], charts, "dev")
        dev.pulumi("stack", "init", dev.name)
        dev.configure()

        figures = {
            "engine floor (preview of an empty program)": timed(lambda: floor_stack.pulumi("preview")),
            "preview of the dev stack": timed(lambda: dev.pulumi("preview")),
            "first up of the dev stack": timed(dev.up),
            "no-op up of the dev stack": timed(dev.up),
        }
        dev.pulumi("destroy", "--yes", "--skip-preview")
    floor = figures["engine floor (preview of an empty program)"]
    for what, seconds in figures.items():
        print(f"{what:<45} {seconds:7.1f} s  {seconds / floor:5.1f} x floor")


if __name__ == "__main__":
    main()
