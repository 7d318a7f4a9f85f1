"""The resource requests a stack deploys, per component and in total, from what it registers.

Helm charts are sized from their values by chart-aware extractors (`CHART_EXTRACTORS`, keyed by
chart name); plain workloads (`WORKLOAD_TYPES`) from their pod spec * replicas; injected sidecars
from the istiod chart's `global.proxy.resources.requests` * the replicas of every injected pod.
A chart without an extractor, or values the extractor cannot size, is reported as an unknown
footprint — never counted as zero. To size a new chart, add an extractor to `CHART_EXTRACTORS`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from mesh.charts import HELM_INSTALL_TYPES
from mesh.istio.manifests import POD_INJECTION_LABEL, is_injected
from review.program import RegisteredResource, StackRun
from settings.quantities import Requests, parse_quantity

NAMESPACE_TYPE = "kubernetes:core/v1:Namespace"
WORKLOAD_TYPES = frozenset({"kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet"})
# Pods of these run per node or per schedule, so their footprint is not replicas * requests.
UNSIZED_WORKLOAD_TYPES = frozenset(
    {"kubernetes:apps/v1:DaemonSet", "kubernetes:batch/v1:Job", "kubernetes:batch/v1:CronJob"}
)
# Istio's per-pod overrides of the injected proxy's requests.
_PROXY_CPU_ANNOTATION = "sidecar.istio.io/proxyCPU"
_PROXY_MEMORY_ANNOTATION = "sidecar.istio.io/proxyMemory"


class UnknownFootprintError(Exception):
    """The requests of something cannot be known from what the program registers."""


@dataclass(frozen=True)
class Pods:
    """`replicas` identical pods (or containers) requesting `requests` each."""

    what: str
    replicas: int
    requests: Requests


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


def requests_of(resources: Mapping[str, Any] | None, *, where: str) -> Requests:
    """The `requests` of a Kubernetes `resources` block; a chart value without them is unknown,
    because the chart's own default then applies."""
    requests = (resources or {}).get("requests") or {}
    missing = [resource for resource in ("cpu", "memory") if resource not in requests]
    if missing:
        raise UnknownFootprintError(f"{where} sets no {' or '.join(missing)} request; the chart's default applies")
    return Requests(parse_quantity(str(requests["cpu"])), parse_quantity(str(requests["memory"])))


def istiod_pods(values: Mapping[str, Any]) -> list[Pods]:
    """istiod: `resources.requests` * (`autoscaleMin` if `autoscaleEnabled` else `replicaCount`)."""
    replicas = values.get("autoscaleMin") if values.get("autoscaleEnabled") else values.get("replicaCount")
    return [
        Pods(
            "istiod",
            _replicas(replicas, "autoscaleMin/replicaCount"),
            requests_of(values.get("resources"), where="resources"),
        )
    ]


def gateway_pods(values: Mapping[str, Any]) -> list[Pods]:
    """gateway: `resources.requests` * (`autoscaling.minReplicas` if enabled else `replicaCount`)."""
    autoscaling = values.get("autoscaling") or {}
    replicas = autoscaling.get("minReplicas") if autoscaling.get("enabled") else values.get("replicaCount")
    return [
        Pods(
            "gateway",
            _replicas(replicas, "autoscaling.minReplicas/replicaCount"),
            requests_of(values.get("resources"), where="resources"),
        )
    ]


def prometheus_pods(values: Mapping[str, Any]) -> list[Pods]:
    """prometheus: one server pod: `server.resources` plus its config-reloader sidecar."""
    server = values.get("server") or {}
    reloader = (values.get("configmapReload") or {}).get("prometheus") or {}
    return [
        Pods("server", 1, requests_of(server.get("resources"), where="server.resources")),
        Pods(
            "config-reloader", 1, requests_of(reloader.get("resources"), where="configmapReload.prometheus.resources")
        ),
    ]


def grafana_pods(values: Mapping[str, Any]) -> list[Pods]:
    """grafana: `resources` * `replicas` (the chart's default of 1)."""
    return [Pods("grafana", int(values.get("replicas", 1)), requests_of(values.get("resources"), where="resources"))]


def kiali_pods(values: Mapping[str, Any]) -> list[Pods]:
    """kiali-server: `deployment.resources` * `deployment.replicas` (the chart's default of 1)."""
    deployment = values.get("deployment") or {}
    return [
        Pods(
            "kiali",
            int(deployment.get("replicas", 1)),
            requests_of(deployment.get("resources"), where="deployment.resources"),
        )
    ]


def jaeger_pods(values: Mapping[str, Any]) -> list[Pods]:
    """jaeger (v2, all-in-one): `jaeger.resources` * `jaeger.replicas`."""
    jaeger = values.get("jaeger") or {}
    return [
        Pods(
            "jaeger",
            _replicas(jaeger.get("replicas"), "jaeger.replicas"),
            requests_of(jaeger.get("resources"), where="jaeger.resources"),
        )
    ]


def no_pods(values: Mapping[str, Any]) -> list[Pods]:
    """Charts that deploy no pods (CRDs and cluster-wide objects only)."""
    return []


ChartExtractor = Callable[[Mapping[str, Any]], list[Pods]]
CHART_EXTRACTORS: dict[str, ChartExtractor] = {
    "base": no_pods,
    "istiod": istiod_pods,
    "gateway": gateway_pods,
    "prometheus": prometheus_pods,
    "grafana": grafana_pods,
    "kiali-server": kiali_pods,
    "jaeger": jaeger_pods,
}


def chart_name(chart: str) -> str:
    """The chart's name whatever its source: `istiod`, `oci://…/istiod` and `/srv/charts/istiod`."""
    return chart.rstrip("/").rsplit("/", 1)[-1]


def stack_footprint(run: StackRun) -> Footprint:
    """The footprint of everything `run` registered, sorted by component."""
    components = [*_chart_footprints(run), *_workload_footprints(run)]
    return Footprint(tuple(sorted(components, key=lambda component: component.component)))


def _chart_footprints(run: StackRun) -> Iterator[ComponentFootprint]:
    for chart in _helm_installs(run):
        name = chart_name(chart.inputs["chart"])
        extractor = CHART_EXTRACTORS.get(name)
        if extractor is None:
            yield ComponentFootprint(chart.name, unknown=f"chart {name!r} has no footprint extractor")
            continue
        try:
            yield ComponentFootprint(chart.name, tuple(extractor(chart.inputs.get("values") or {})))
        except UnknownFootprintError as error:
            yield ComponentFootprint(chart.name, unknown=f"chart {name!r}: {error}")


def _helm_installs(run: StackRun) -> list[RegisteredResource]:
    return [resource for resource in run.resources if resource.type in HELM_INSTALL_TYPES]


def _workload_footprints(run: StackRun) -> Iterator[ComponentFootprint]:
    injected_namespaces = _injected_namespaces(run)
    for workload in run.resources:
        if workload.type in UNSIZED_WORKLOAD_TYPES:
            yield ComponentFootprint(workload.name, unknown=f"{_kind(workload)} pods are not sized by replicas")
        if workload.type not in WORKLOAD_TYPES:
            continue
        spec = workload.inputs.get("spec") or {}
        replicas = _replicas(spec.get("replicas", 1), "spec.replicas")
        pod = spec.get("template") or {}
        groups = [Pods(_kind(workload), replicas, _pod_requests(pod.get("spec") or {}))]
        if _is_injected(pod.get("metadata") or {}, _namespace_of(workload), injected_namespaces):
            try:
                groups.append(Pods("sidecar", replicas, _sidecar_requests(run, pod.get("metadata") or {})))
            except UnknownFootprintError as error:
                yield ComponentFootprint(f"{workload.name} (sidecar)", unknown=str(error))
        yield ComponentFootprint(workload.name, tuple(groups))


def _pod_requests(pod_spec: Mapping[str, Any]) -> Requests:
    """The sum of the containers' requests; a container without requests requests nothing."""
    return sum(
        (_container_requests(container.get("resources") or {}) for container in pod_spec.get("containers") or []),
        Requests(),
    )


def _container_requests(resources: Mapping[str, Any]) -> Requests:
    requests = resources.get("requests") or {}
    return Requests(parse_quantity(str(requests.get("cpu", 0))), parse_quantity(str(requests.get("memory", 0))))


def _sidecar_requests(run: StackRun, pod_metadata: Mapping[str, Any]) -> Requests:
    """The injected proxy's requests: the istiod chart's `global.proxy`, or the pod's overrides."""
    istiod = [chart for chart in _helm_installs(run) if chart_name(chart.inputs["chart"]) == "istiod"]
    if not istiod:
        raise UnknownFootprintError("injected, but the stack installs no istiod chart to size its sidecar")
    proxy = requests_of(
        ((istiod[0].inputs.get("values") or {}).get("global") or {}).get("proxy", {}).get("resources"),
        where="istiod global.proxy.resources",
    )
    annotations = pod_metadata.get("annotations") or {}
    return Requests(
        parse_quantity(annotations[_PROXY_CPU_ANNOTATION]) if _PROXY_CPU_ANNOTATION in annotations else proxy.cpu,
        parse_quantity(annotations[_PROXY_MEMORY_ANNOTATION])
        if _PROXY_MEMORY_ANNOTATION in annotations
        else proxy.memory,
    )


def _injected_namespaces(run: StackRun) -> set[str]:
    """Namespaces the program labels for sidecar injection."""
    return {
        namespace.inputs["metadata"]["name"]
        for namespace in run.of_type(NAMESPACE_TYPE)
        if is_injected(namespace.inputs["metadata"].get("labels") or {})
    }


def _is_injected(pod_metadata: Mapping[str, Any], namespace: str, injected_namespaces: set[str]) -> bool:
    """Istio's rule: the pod's `sidecar.istio.io/inject` label wins over its namespace's label."""
    label = (pod_metadata.get("labels") or {}).get(POD_INJECTION_LABEL)
    if label is not None:
        return str(label).lower() == "true"
    return namespace in injected_namespaces


def _namespace_of(resource: RegisteredResource) -> str:
    return (resource.inputs.get("metadata") or {}).get("namespace") or "default"


def _kind(resource: RegisteredResource) -> str:
    return resource.type.rsplit(":", 1)[-1]


def _replicas(value: Any, key: str) -> int:
    # The engine's wire format carries numbers as floats.
    if value is None:
        raise UnknownFootprintError(f"{key} is not set; the chart's default applies")
    return int(value)
