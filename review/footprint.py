"""The resource requests a stack deploys, per component and in total, from what it registers.

Helm charts are sized from their values by chart extractors keyed by chart name: each mesh's, from
its footprint reader (`mesh/<provider>/footprint.py`, listed in `mesh.implementations.FOOTPRINTS`),
and the add-ons' (`ADDON_EXTRACTORS`); an extractor may also read the values of the other charts
the stack installs. Plain workloads (`WORKLOAD_TYPES`) are sized from their pod spec * replicas,
and injected sidecars by the mesh that injects them, from its chart's values * the replicas of
every pod it injects; objects a mesh runs pods for (a waypoint) by that mesh. Node agents
(DaemonSets) count once, for one node. Each pod group counts in one part of the stack (`by_part`):
the README's comparison of the meshes is generated from it. This is the one place the footprint
is computed.
A chart without an extractor, or values the extractor cannot size, is reported as an unknown
footprint — never counted as zero. To size a new add-on chart, add an extractor to
`ADDON_EXTRACTORS`; a mesh's charts are sized by its own reader.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from mesh.charts import HELM_INSTALL_TYPES
from mesh.footprint import (
    ADDONS,
    APPS,
    PARTS,
    ChartExtractor,
    InstalledCharts,
    NamespaceObject,
    Pods,
    UnknownFootprintError,
    Values,
    from_own_values,
    replicated_pods,
    requests_of,
)
from mesh.implementations import FOOTPRINTS
from mesh.objects import DEPLOYMENT, NAMESPACE, STATEFUL_SET, chart_name, mapping_at, name_of, namespace_of, replicas_of
from review.program import RegisteredResource, StackRun
from settings.quantities import Requests, parse_quantity

WORKLOAD_TYPES = frozenset({DEPLOYMENT, STATEFUL_SET})
# Pods of these run per node or per schedule, so their footprint is not replicas * requests.
UNSIZED_WORKLOAD_TYPES = frozenset(
    {"kubernetes:apps/v1:DaemonSet", "kubernetes:batch/v1:Job", "kubernetes:batch/v1:CronJob"}
)


@dataclass(frozen=True)
class ComponentFootprint:
    """What one registered resource deploys: its pod groups, or why that is unknown."""

    component: str
    pods: tuple[Pods, ...] = ()
    unknown: str | None = None

    @property
    def total(self) -> Requests:
        return sum((group.requests * group.replicas for group in self.pods), Requests())


@dataclass(frozen=True)
class Footprint:
    """Every component's footprint and the total of those that are known."""

    components: tuple[ComponentFootprint, ...]

    @property
    def total(self) -> Requests:
        return sum((component.total for component in self.components), Requests())

    @property
    def unknown(self) -> tuple[ComponentFootprint, ...]:
        return tuple(component for component in self.components if component.unknown is not None)

    def by_part(self) -> dict[str, Requests]:
        """The known requests per part of the stack (control plane, node agents, gateway, add-ons,
        apps), as the README's comparison of the meshes splits them."""
        parts = dict.fromkeys(PARTS, Requests())
        for component in self.components:
            for group in component.pods:
                parts[group.part] += group.requests * group.replicas
        return parts


# Add-ons


def prometheus_pods(values: Values) -> list[Pods]:
    """prometheus: one server pod: `server.resources` plus its config-reloader sidecar."""
    server = values.get("server") or {}
    reloader = (values.get("configmapReload") or {}).get("prometheus") or {}
    return [
        Pods("server", 1, requests_of(server.get("resources"), where="server.resources"), ADDONS),
        Pods(
            "config-reloader",
            1,
            requests_of(reloader.get("resources"), where="configmapReload.prometheus.resources"),
            ADDONS,
        ),
    ]


def grafana_pods(values: Values) -> list[Pods]:
    """grafana: `resources` * `replicas` (the chart's default of 1)."""
    return [
        Pods("grafana", int(values.get("replicas", 1)), requests_of(values.get("resources"), where="resources"), ADDONS)
    ]


def kiali_pods(values: Values) -> list[Pods]:
    """kiali-server: `deployment.resources` * `deployment.replicas` (the chart's default of 1)."""
    deployment = values.get("deployment") or {}
    return [
        Pods(
            "kiali",
            int(deployment.get("replicas", 1)),
            requests_of(deployment.get("resources"), where="deployment.resources"),
            ADDONS,
        )
    ]


def jaeger_pods(values: Values) -> list[Pods]:
    """jaeger (v2, all-in-one): `jaeger.resources` * `jaeger.replicas`."""
    return [
        replicated_pods(
            "jaeger", values, replicas=("jaeger", "replicas"), resources=("jaeger", "resources"), part=ADDONS
        )
    ]


ADDON_EXTRACTORS: dict[str, ChartExtractor] = {
    "prometheus": from_own_values(prometheus_pods),
    "grafana": from_own_values(grafana_pods),
    "kiali-server": from_own_values(kiali_pods),
    "jaeger": from_own_values(jaeger_pods),
}
CHART_EXTRACTORS: dict[str, ChartExtractor] = {
    **{chart: extractor for footprint in FOOTPRINTS.values() for chart, extractor in footprint.charts.items()},
    **ADDON_EXTRACTORS,
}


# The stack


def stack_footprint(run: StackRun) -> Footprint:
    """The footprint of everything `run` registered, sorted by component."""
    charts = installed_charts(run)
    components = [
        *_chart_footprints(run, charts),
        *_workload_footprints(run, charts),
        *_mesh_object_footprints(run, charts),
    ]
    return Footprint(tuple(sorted(components, key=lambda component: component.component)))


def installed_charts(run: StackRun) -> InstalledCharts:
    """The values of each chart `run` installs, by chart name (the first install of each)."""
    charts: dict[str, Values] = {}
    for chart in _helm_installs(run):
        charts.setdefault(chart_name(chart.inputs["chart"]), chart.inputs.get("values") or {})
    return charts


def _chart_footprints(run: StackRun, charts: InstalledCharts) -> Iterator[ComponentFootprint]:
    for chart in _helm_installs(run):
        name = chart_name(chart.inputs["chart"])
        extractor = CHART_EXTRACTORS.get(name)
        if extractor is None:
            yield ComponentFootprint(chart.name, unknown=f"chart {name!r} has no footprint extractor")
            continue
        try:
            yield ComponentFootprint(chart.name, tuple(extractor(chart.inputs.get("values") or {}, charts)))
        except UnknownFootprintError as error:
            yield ComponentFootprint(chart.name, unknown=f"chart {name!r}: {error}")


def _helm_installs(run: StackRun) -> list[RegisteredResource]:
    return [resource for resource in run.resources if resource.type in HELM_INSTALL_TYPES]


def _workload_footprints(run: StackRun, charts: InstalledCharts) -> Iterator[ComponentFootprint]:
    namespaces = _namespaces(run)
    for workload in run.resources:
        if workload.type in UNSIZED_WORKLOAD_TYPES:
            yield ComponentFootprint(workload.name, unknown=f"{_kind(workload)} pods are not sized by replicas")
        if workload.type not in WORKLOAD_TYPES:
            continue
        replicas = replicas_of(workload.inputs)
        pod = mapping_at(workload.inputs, "spec", "template")
        groups = [Pods(_kind(workload), replicas, _pod_requests(mapping_at(pod, "spec")), APPS)]
        for footprint in FOOTPRINTS.values():
            injector = footprint.injector
            if not injector.injects(pod, namespaces.get(namespace_of(workload.inputs), {})):
                continue
            try:
                groups.append(Pods(injector.sidecar, replicas, injector.sidecar_requests(charts, pod), APPS))
            except UnknownFootprintError as error:
                yield ComponentFootprint(f"{workload.name} (sidecar)", unknown=str(error))
        yield ComponentFootprint(workload.name, tuple(groups))


def _mesh_object_footprints(run: StackRun, charts: InstalledCharts) -> Iterator[ComponentFootprint]:
    """The pods a mesh runs for objects of its own the stack declares (its waypoints, say)."""
    for resource in run.resources:
        for footprint in FOOTPRINTS.values():
            try:
                pods = footprint.object_pods(resource.type, resource.inputs, charts)
            except UnknownFootprintError as error:
                yield ComponentFootprint(resource.name, unknown=str(error))
                continue
            if pods is not None:
                yield ComponentFootprint(resource.name, tuple(pods))


def _pod_requests(pod_spec: Mapping[str, Any]) -> Requests:
    """The sum of the containers' requests; a container without requests requests nothing."""
    return sum(
        (_container_requests(container.get("resources") or {}) for container in pod_spec.get("containers") or []),
        Requests(),
    )


def _container_requests(resources: Mapping[str, Any]) -> Requests:
    requests = resources.get("requests") or {}
    return Requests(parse_quantity(str(requests.get("cpu", 0))), parse_quantity(str(requests.get("memory", 0))))


def _namespaces(run: StackRun) -> dict[str, NamespaceObject]:
    """Every namespace the program declares, by name."""
    return {name_of(namespace.inputs): namespace.inputs for namespace in run.of_type(NAMESPACE)}


def _kind(resource: RegisteredResource) -> str:
    return resource.type.rsplit(":", 1)[-1]
