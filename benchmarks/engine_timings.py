"""How long the real engine takes for this program, against the engine's own floor.

Starts a local control plane, then times, in one run on one machine: `pulumi preview` of an empty
Python program (the floor: CLI, language host and plugin start-up), `pulumi preview` of the dev
stack, its first `pulumi up`, and a no-op `pulumi up`, each as `make up` and the deploy workflow
run them (with the policy pack); prints each time and its ratio to the floor.
`benchmarks/peer.py` runs the same beside Helm and kubectl.
Needs `make engine` and the published charts (the reference data, SERVICEMESH_REFERENCE_DIR).
Run: `.venv/bin/python benchmarks/engine_timings.py [--apps N]`.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

TESTS = Path(__file__).resolve().parent.parent / "tests"
sys.path[:0] = [str(TESTS.parent), str(TESTS), str(TESTS / "e2e"), str(Path(__file__).resolve().parent)]

from apps_scaling import declared_apps  # noqa: E402
from harness import Stack, built_engine, e2e_cluster, make_workspace  # noqa: E402
from reference_data import GATEWAY_API_CRDS, HELM_CHARTS  # noqa: E402

from scripts.run_config import PublishedCharts  # noqa: E402

FLOOR = "engine floor: preview of an empty program"
PREVIEW = "pulumi preview of dev"
FIRST_UP = "first pulumi up of dev"
NO_OP_UP = "no-op pulumi up of dev"
# What `make up` and the deploy workflow pass: the guardrails run on every preview and up.
WITH_POLICY_PACK = ("--policy-pack", "policy")


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def engine_and_charts() -> tuple[Path, PublishedCharts]:
    """The engine's bin dir and the published charts, or exit saying what is missing."""
    engine = built_engine()
    charts = PublishedCharts(directory=HELM_CHARTS, gateway_api_crds=GATEWAY_API_CRDS)
    if engine is None or not charts.directory.is_dir():
        sys.exit("needs `make engine` and the published charts (SERVICEMESH_REFERENCE_DIR)")
    return engine, charts


def pulumi_timings(
    engine: Path,
    charts: PublishedCharts,
    scratch: Path,
    *,
    overrides: Mapping[str, Any] | None = None,
    automatic_log: bool = True,
) -> dict[str, float]:
    """Seconds of the engine floor, then of preview, first up and no-op up of dev (with `overrides`),
    on a fresh control plane of their own (stopped on return).

    `automatic_log=False` runs the CLI without its automatic debug log (`make_workspace`), to show
    that log's share."""
    with e2e_cluster(engine, scratch / "cluster") as cluster:
        workspace = make_workspace(
            scratch / "workspace", engine_bin=engine, cluster=cluster, automatic_log=automatic_log
        )
        empty = scratch / "workspace" / "empty"
        empty.mkdir()
        (empty / "Pulumi.yaml").write_text(
            f"name: empty\nruntime:\n  name: python\n  options:\n    virtualenv: {sys.prefix}\n"
        )
        (empty / "__main__.py").write_text("")
        floor_stack = Stack("floor", empty, workspace["env"], charts, "dev")
        floor_stack.pulumi("stack", "init", "floor")
        dev = Stack("dev-benchmark", workspace["project"], workspace["env"], charts, "dev")
        dev.pulumi("stack", "init", dev.name)
        dev.configure(overrides)
        return {
            FLOOR: timed(lambda: floor_stack.pulumi("preview")),
            PREVIEW: timed(lambda: dev.pulumi("preview", *WITH_POLICY_PACK)),
            FIRST_UP: timed(lambda: dev.up(*WITH_POLICY_PACK)),
            NO_OP_UP: timed(lambda: dev.up(*WITH_POLICY_PACK)),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apps", type=int, help="declare this many generated apps instead of dev's own")
    arguments = parser.parse_args()
    overrides = {"servicemesh:apps": declared_apps(arguments.apps)} if arguments.apps else None

    engine, charts = engine_and_charts()
    with tempfile.TemporaryDirectory() as scratch:
        figures = pulumi_timings(engine, charts, Path(scratch), overrides=overrides)
    for what, seconds in figures.items():
        print(f"{what:<45} {seconds:7.1f} s  {seconds / figures[FLOOR]:5.1f} x floor")


if __name__ == "__main__":
    main()
