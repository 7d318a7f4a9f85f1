"""Pulumi against the tools a user would pick instead, side by side in one run on one machine.

Each path runs on a fresh local control plane of the e2e suite's kind (`tests/e2e/harness.py`:
a bare API server, no pods), so each first install meets an empty cluster:

- Pulumi (`benchmarks/engine_timings.py`): the engine floor, then `pulumi preview`, the first
  `pulumi up` and a no-op `pulumi up` of the dev stack on the published charts
  (`cluster.apiServerOnly`, the policy pack on, as `make up` and the deploy workflow run them);
  again with the engine's automatic log off, to show its share; and again with
  `helm.installMode: release` (each chart one Helm release, see docs/configuration.md);
- Helm: `kubectl apply --server-side` of the program's own Namespaces, `helm upgrade --install`
  of each chart the program installs, in its order, with the values it gives it, then
  `kubectl apply --server-side` of the program's other own objects; then all of it again (no-op);
- kubectl: `kubectl apply --server-side` of every object (each chart rendered with
  `helm template` beforehand, untimed, as manifests kept in git would be): the CRDs, a wait
  until they are established, then the rest; then all of it again (no-op).

What the charts and own objects are, and their values, comes from the program itself, run under
mocks on the same stack config as the Pulumi path. Prints seconds and the ratios the performance
targets are stated in. Needs `make engine` and the published charts (SERVICEMESH_REFERENCE_DIR).
Run: `.venv/bin/python benchmarks/peer.py [--variants default,log-off,release]` (about 7 minutes
on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCHMARKS = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCHMARKS.parent), str(BENCHMARKS.parent / "tests"), str(BENCHMARKS.parent / "tests" / "e2e")]

from engine_timings import FIRST_UP, FLOOR, NO_OP_UP, PREVIEW, engine_and_charts, pulumi_timings, timed  # noqa: E402
from harness import e2e_cluster, e2e_stack_config  # noqa: E402

from mesh.charts import HELM_INSTALL_TYPES  # noqa: E402
from review.images import ChartInstall, chart_installs, pinned_kubernetes_version, render_chart  # noqa: E402
from review.program import run_program  # noqa: E402
from review.stacks import engine_config  # noqa: E402
from scripts.local_cluster import Cluster  # noqa: E402
from scripts.run_config import PublishedCharts  # noqa: E402

BASE_STACK = "dev"
# The Pulumi path's variants: how each is run, by the name the table gives its column.
VARIANTS: dict[str, Callable[[Path, PublishedCharts, Path], dict[str, float]]] = {
    "default": lambda engine, charts, scratch: pulumi_timings(engine, charts, scratch),
    "log-off": lambda engine, charts, scratch: pulumi_timings(engine, charts, scratch, automatic_log=False),
    "release": lambda engine, charts, scratch: pulumi_timings(
        engine, charts, scratch, overrides={"servicemesh:helm.installMode": "release"}
    ),
}
HELM_FIRST = "helm upgrade --install + kubectl apply of own objects"
HELM_NO_OP = "helm path again (no-op)"
APPLY_FIRST = "kubectl apply --server-side of all objects"
APPLY_NO_OP = "kubectl path again (no-op)"
# Each Pulumi step and the peer figures it is held against (the targets: preview and
# no-op up against Helm's no-op, first up against Helm's first install).
YARDSTICKS = {
    PREVIEW: (FLOOR, HELM_NO_OP),
    FIRST_UP: (HELM_FIRST, APPLY_FIRST),
    NO_OP_UP: (HELM_NO_OP, APPLY_NO_OP),
}
CRD = "CustomResourceDefinition"
NAMESPACE = "Namespace"
KUBECTL_TIMEOUT = 300


@dataclass(frozen=True, kw_only=True)
class Peers:
    """What the program installs, as the other tools take it: its charts with their values, its own
    Kubernetes objects, and every chart's objects rendered."""

    charts: list[ChartInstall]
    own_objects: list[dict[str, Any]]
    rendered: list[dict[str, Any]]


def program_peers(charts: PublishedCharts, helm: Path) -> Peers:
    """The dev stack's charts and own objects as the Pulumi path gets them (same config, under mocks)."""
    run = run_program(engine_config(e2e_stack_config(BASE_STACK, charts)), stack=BASE_STACK)
    if run.error is not None:
        raise SystemExit(f"the program failed under mocks: {run.error}")
    installs = chart_installs(run.resources)
    kube_version = pinned_kubernetes_version()
    return Peers(
        charts=installs,
        own_objects=[
            resource.inputs
            for resource in run.resources
            if resource.type.startswith("kubernetes:") and resource.type not in HELM_INSTALL_TYPES
        ],
        rendered=[
            with_release_namespace(manifest, install.namespace)
            for install in installs
            for manifest in render_chart(
                install, directory=Path(install.chart), helm=str(helm), kube_version=kube_version
            )
        ],
    )


def with_release_namespace(manifest: dict[str, Any], namespace: str) -> dict[str, Any]:
    """`manifest` with the release's namespace where a chart leaves it to `helm install -n` (the
    API server drops it from a cluster-scoped object)."""
    manifest.setdefault("metadata", {}).setdefault("namespace", namespace)
    return manifest


def of_kinds(manifests: Iterable[Mapping[str, Any]], *kinds: str) -> list[Mapping[str, Any]]:
    return [manifest for manifest in manifests if manifest["kind"] in kinds]


def not_of_kinds(manifests: Iterable[Mapping[str, Any]], *kinds: str) -> list[Mapping[str, Any]]:
    return [manifest for manifest in manifests if manifest["kind"] not in kinds]


def kubectl_apply(cluster: Cluster, manifests: list[Mapping[str, Any]], scratch: Path) -> None:
    """`kubectl apply --server-side` of `manifests`, in their order, as one List."""
    if not manifests:
        return
    path = scratch / "apply.json"
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": manifests}))
    cluster.kubectl("apply", "--server-side", "-f", str(path), timeout=KUBECTL_TIMEOUT)


def helm_path(engine: Path, peers: Peers, scratch: Path) -> dict[str, float]:
    """Helm's first install and no-op upgrade of the program's charts, with its own objects beside."""

    def install_all() -> None:
        kubectl_apply(cluster, of_kinds(peers.own_objects, NAMESPACE), scratch)
        for install in peers.charts:
            subprocess.run(
                [
                    str(engine / "helm"),
                    *("upgrade", "--install", install.release, install.chart, "--namespace", install.namespace),
                    *("--create-namespace", "--kubeconfig", str(cluster.kubeconfig), "--values", "-"),
                ],
                input=json.dumps(install.values),
                capture_output=True,
                text=True,
                check=True,
                timeout=KUBECTL_TIMEOUT,
            )
        kubectl_apply(cluster, not_of_kinds(peers.own_objects, NAMESPACE), scratch)

    with e2e_cluster(engine, scratch / "cluster") as cluster:
        return {HELM_FIRST: timed(install_all), HELM_NO_OP: timed(install_all)}


def apply_path(engine: Path, peers: Peers, scratch: Path) -> dict[str, float]:
    """kubectl's server-side apply of every object, CRDs first, then again (no-op)."""
    everything = peers.own_objects + peers.rendered
    crds = of_kinds(everything, CRD)

    def apply_all() -> None:
        kubectl_apply(cluster, crds, scratch)
        names = [f"crd/{crd['metadata']['name']}" for crd in crds]
        cluster.kubectl("wait", "--for", "condition=established", *names, timeout=KUBECTL_TIMEOUT)
        kubectl_apply(cluster, of_kinds(everything, NAMESPACE) + not_of_kinds(everything, CRD, NAMESPACE), scratch)

    with e2e_cluster(engine, scratch / "cluster") as cluster:
        return {APPLY_FIRST: timed(apply_all), APPLY_NO_OP: timed(apply_all)}


def report(pulumi: Mapping[str, Mapping[str, float]], peers: Mapping[str, float], counted: Peers) -> str:
    """The figures as a table: Pulumi's steps per variant with their ratios, then the peers'."""
    objects = len(counted.own_objects) + len(counted.rendered)
    width = max(map(len, [*YARDSTICKS, FLOOR, *(f"  / {peer}" for peer in peers)])) + 2
    lines = [
        f"dev: {len(counted.charts)} charts, {len(counted.own_objects)} own objects, {objects} Kubernetes objects",
        "",
        f"{'Pulumi (seconds; ratios)':<{width}}" + "".join(f"{variant:>10}" for variant in pulumi),
        f"{FLOOR:<{width}}" + "".join(f"{figures[FLOOR]:>10.1f}" for figures in pulumi.values()),
    ]
    for step, yardsticks in YARDSTICKS.items():
        lines.append(f"{step:<{width}}" + "".join(f"{figures[step]:>10.1f}" for figures in pulumi.values()))
        for yardstick in yardsticks:
            ratios = [
                figures[step] / (figures[FLOOR] if yardstick == FLOOR else peers[yardstick])
                for figures in pulumi.values()
            ]
            label = f"  / {yardstick}"
            lines.append(f"{label:<{width}}" + "".join(f"{ratio:>9.2f}x" for ratio in ratios))
    lines += [
        "",
        "peers (seconds)",
        *(f"{what:<{width}}{seconds:>10.1f}" for what, seconds in peers.items()),
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--variants", default=",".join(VARIANTS), help=f"Pulumi variants to run, of {', '.join(VARIANTS)}"
    )
    variants = parser.parse_args().variants.split(",")
    engine, charts = engine_and_charts()
    peers = program_peers(charts, engine / "helm")
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        for path in ("helm", "apply"):
            (root / path).mkdir()
        pulumi = {variant: VARIANTS[variant](engine, charts, root / variant) for variant in variants}
        peer_figures = helm_path(engine, peers, root / "helm") | apply_path(engine, peers, root / "apply")
    print(report(pulumi, peer_figures, peers))


if __name__ == "__main__":
    main()
