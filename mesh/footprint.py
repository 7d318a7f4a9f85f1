"""Sizing what a mesh runs from what a stack registers: `MeshFootprint`, the reader each mesh
states in its own `footprint.py`, and the kit those readers are written with. Names no mesh.

A reader states, from the mesh's charts themselves, what each chart runs (control plane, node
agents, gateway) and what its injector adds to a pod, and reads the sizes from the values the
stack passes to the charts, never from the settings: the program's `footprint` output and the
review's reading of what the program registers (`python -m review footprint`) check each other.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mesh.objects import annotations_of, lookup
from settings.quantities import Requests, parse_quantity

Values = Mapping[str, Any]
InstalledCharts = Mapping[str, Values]
"""The values of each chart the stack installs, by chart name (the first install of each)."""
PodTemplate = Mapping[str, Any]
"""A workload's pod template: its `metadata` and `spec`."""
NamespaceObject = Mapping[str, Any]
"""The props of a Namespace the stack declares (its `metadata`); empty where it declares none."""


class UnknownFootprintError(Exception):
    """The requests of something cannot be known from what the program registers."""


# The parts of a stack's footprint, as the README's comparison of the meshes splits it.
CONTROL_PLANE = "controlPlane"
NODE_AGENTS = "nodeAgents"
GATEWAY = "gateway"
ADDONS = "addons"
APPS = "apps"
PARTS = (CONTROL_PLANE, NODE_AGENTS, GATEWAY, ADDONS, APPS)


@dataclass(frozen=True)
class Pods:
    """`replicas` identical pods (or containers) requesting `requests` each, counted in `part`."""

    what: str
    replicas: int
    requests: Requests
    part: str = CONTROL_PLANE


def requests_of(resources: Mapping[str, Any] | None, *, where: str) -> Requests:
    """The `requests` of a Kubernetes `resources` block; a chart value without them is unknown,
    because the chart's own default then applies."""
    requests = (resources or {}).get("requests") or {}
    missing = [resource for resource in ("cpu", "memory") if resource not in requests]
    if missing:
        raise UnknownFootprintError(f"{where} sets no {' or '.join(missing)} request; the chart's default applies")
    return Requests(parse_quantity(str(requests["cpu"])), parse_quantity(str(requests["memory"])))


def chart_replicas(value: Any, key: str) -> int:
    """A replica count from a chart's values; unset is unknown, because the chart's default applies."""
    # The engine's wire format carries numbers as floats.
    if value is None:
        raise UnknownFootprintError(f"{key} is not set; the chart's default applies")
    return int(value)


def replicated_pods(
    what: str, values: Values, *, replicas: tuple[str, ...], resources: tuple[str, ...], part: str = CONTROL_PLANE
) -> Pods:
    """`what`: the replica count at the values path `replicas`, each pod requesting what the
    resources block at `resources` requests."""
    return Pods(
        what,
        chart_replicas(lookup(values, *replicas), ".".join(replicas)),
        requests_of(lookup(values, *resources), where=".".join(resources)),
        part,
    )


ChartExtractor = Callable[[Values, InstalledCharts], list[Pods]]
"""The pods a chart runs, from its values and, where it needs them, the other charts' values."""


def from_own_values(extractor: Callable[[Values], list[Pods]]) -> ChartExtractor:
    """An extractor that reads its own chart's values only."""
    return lambda values, _charts: extractor(values)


def no_pods(values: Values, charts: InstalledCharts) -> list[Pods]:
    """Charts that deploy no pods (CRDs and cluster-wide objects only)."""
    return []


@dataclass(frozen=True, kw_only=True)
class Injector:
    """A mesh's sidecar injector: which pods it injects (from their template and their namespace),
    the chart whose values size the sidecar, and the pod annotations that override that size."""

    sidecar: str
    chart: str
    injects: Callable[[PodTemplate, NamespaceObject], bool]
    requests: Callable[[Values], Requests]
    cpu_annotation: str
    memory_annotation: str

    def sidecar_requests(self, charts: InstalledCharts, pod: PodTemplate) -> Requests:
        """What it adds to `pod`: its chart's sidecar requests, or the pod's own overrides."""
        if self.chart not in charts:
            raise UnknownFootprintError(
                f"injected ({self.sidecar}), but the stack installs no {self.chart} chart to size the sidecar"
            )
        default = self.requests(charts[self.chart])
        annotations = annotations_of(pod)
        cpu, memory = annotations.get(self.cpu_annotation), annotations.get(self.memory_annotation)
        return Requests(
            parse_quantity(str(cpu)) if cpu is not None else default.cpu,
            parse_quantity(str(memory)) if memory is not None else default.memory,
        )


ObjectReader = Callable[[str, Values, InstalledCharts], list[Pods] | None]
"""The pods the mesh runs for one object the stack declares (by its type token and props), or
None for an object it runs no pods for."""


def no_object_pods(resource_type: str, props: Values, charts: InstalledCharts) -> list[Pods] | None:
    return None


@dataclass(frozen=True, kw_only=True)
class MeshFootprint:
    """What one mesh runs, read from what a stack registers."""

    charts: Mapping[str, ChartExtractor]
    """Each of the mesh's charts, by chart name, with the pods it runs."""
    injector: Injector
    """What its sidecar injector adds to each pod it injects."""
    object_pods: ObjectReader = no_object_pods
    """Pods the mesh deploys for objects of its own that the stack declares (such as an L7 proxy per
    namespace), which no chart sizes."""
