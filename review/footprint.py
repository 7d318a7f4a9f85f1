"""The resource requests a stack deploys, per component and in total, from what it registers.

Helm charts are sized from their values by chart-aware extractors (`CHART_EXTRACTORS`, keyed by
chart name), which may also read the values of the other charts the stack installs (Linkerd's viz
extension runs proxies sized by the control plane's values); plain workloads (`WORKLOAD_TYPES`)
from their pod spec * replicas; injected sidecars by the mesh that injects them (`INJECTORS`:
Istio's, Linkerd's and Consul's), from its chart's values * the replicas of every pod it injects;
Istio's waypoints (ambient) from the istiod chart's `global.waypoint.resources`. Node agents
(DaemonSets such as ztunnel) count once, for one node, as the program's own `footprint` does.
A chart without an extractor, or values the extractor cannot size, is reported as an unknown
footprint — never counted as zero. To size a new chart, add an extractor to `CHART_EXTRACTORS`.

What each chart runs is stated here from the chart itself, not imported from the program, so that
the program's `footprint` output and this reading of what it registers check each other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from mesh.charts import HELM_INSTALL_TYPES
from mesh.consul.manifests import INJECT_ANNOTATION as CONSUL_INJECT_ANNOTATION
from mesh.istio.manifests import GATEWAY_API_VERSION, POD_INJECTION_LABEL, WAYPOINT_GATEWAY_CLASS, is_injected
from mesh.linkerd.manifests import INJECT_ANNOTATION as LINKERD_INJECT_ANNOTATION
from review.program import RegisteredResource, StackRun
from settings.quantities import Requests, parse_quantity

NAMESPACE_TYPE = "kubernetes:core/v1:Namespace"
WAYPOINT_TYPE = f"kubernetes:{GATEWAY_API_VERSION}:Gateway"
WORKLOAD_TYPES = frozenset({"kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet"})
# Pods of these run per node or per schedule, so their footprint is not replicas * requests.
UNSIZED_WORKLOAD_TYPES = frozenset(
    {"kubernetes:apps/v1:DaemonSet", "kubernetes:batch/v1:Job", "kubernetes:batch/v1:CronJob"}
)

Values = Mapping[str, Any]
InstalledCharts = Mapping[str, Values]
"""The values of each chart the stack installs, by chart name (the first install of each)."""


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


def linkerd_requests_of(resources: Mapping[str, Any] | None, *, where: str) -> Requests:
    """The requests of a resources block in Linkerd's shape, `{cpu: {request, limit}, memory: {request,
    limit}}`; without them the chart's default applies (no request, so the limit if any), which is unknown."""
    blocks = resources or {}
    requests = {resource: (blocks.get(resource) or {}).get("request") for resource in ("cpu", "memory")}
    missing = [resource for resource, request in requests.items() if request in (None, "")]
    if missing:
        raise UnknownFootprintError(f"{where} sets no {' or '.join(missing)} request; the chart's default applies")
    return Requests(parse_quantity(str(requests["cpu"])), parse_quantity(str(requests["memory"])))


# Istio


def istiod_pods(values: Values) -> list[Pods]:
    """istiod: `resources.requests` * (`autoscaleMin` if `autoscaleEnabled` else `replicaCount`)."""
    replicas = values.get("autoscaleMin") if values.get("autoscaleEnabled") else values.get("replicaCount")
    return [
        Pods(
            "istiod",
            _replicas(replicas, "autoscaleMin/replicaCount"),
            requests_of(values.get("resources"), where="resources"),
        )
    ]


def gateway_pods(values: Values) -> list[Pods]:
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


def cni_pods(values: Values) -> list[Pods]:
    """cni (ambient): the istio-cni node agent, a DaemonSet: `resources.requests` for one node."""
    return [Pods("istio-cni (per node)", 1, requests_of(values.get("resources"), where="resources"))]


def ztunnel_pods(values: Values) -> list[Pods]:
    """ztunnel (ambient): the node proxy, a DaemonSet: `resources.requests` for one node."""
    return [Pods("ztunnel (per node)", 1, requests_of(values.get("resources"), where="resources"))]


def waypoint_requests(istiod: Values) -> Requests:
    """What one waypoint pod requests: istiod deploys it from its chart's `global.waypoint.resources`."""
    return requests_of(_at(istiod, "global", "waypoint", "resources"), where="istiod global.waypoint.resources")


# Linkerd

# The control plane's containers, each with the values key that sizes it: destination, sp-validator
# and the policy controller share the destination pod; identity and proxy-injector have their own.
LINKERD_CONTROLLERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("destination", ("destinationResources",)),
    ("sp-validator", ("spValidatorResources",)),
    ("policy-controller", ("policyController", "resources")),
    ("identity", ("identityResources",)),
    ("proxy-injector", ("proxyInjectorResources",)),
)
# The control plane's pods, each with a proxy, and the key that may size that proxy instead of `proxy.resources`.
LINKERD_CONTROLLER_PROXIES = {
    "destination": "destinationProxyResources",
    "identity": "identityProxyResources",
    "proxy-injector": "proxyInjectorProxyResources",
}
LINKERD_VIZ_COMPONENTS = ("metricsAPI", "tap", "tapInjector", "dashboard")


def linkerd_control_plane_pods(values: Values) -> list[Pods]:
    """linkerd-control-plane: per `controllerReplicas`, its five containers (each sized by its own
    key) and a proxy in each of its three pods (`<pod>ProxyResources`, else `proxy.resources`)."""
    replicas = _replicas(values.get("controllerReplicas"), "controllerReplicas")
    containers = [
        Pods(name, replicas, linkerd_requests_of(_at(values, *path), where=".".join(path)))
        for name, path in LINKERD_CONTROLLERS
    ]
    proxies = [
        Pods(f"{pod} linkerd-proxy", replicas, _controller_proxy_requests(values, key))
        for pod, key in LINKERD_CONTROLLER_PROXIES.items()
    ]
    return containers + proxies


def linkerd_viz_pods(values: Values, charts: InstalledCharts) -> list[Pods]:
    """linkerd-viz: each component (metrics API, tap, tap injector, dashboard) * its `replicas` (the
    chart's default of 1), each pod with a proxy sized by its `proxy.resources`, else by the control
    plane's `proxy.resources` (the injector's default). Its own Prometheus is not sized."""
    if _mapping(values, "prometheus").get("enabled", True):
        raise UnknownFootprintError("runs its own Prometheus (prometheus.enabled, the chart's default), not sized")
    pods = []
    for component in LINKERD_VIZ_COMPONENTS:
        settings = _mapping(values, component)
        replicas = int(settings.get("replicas", 1))
        pods.append(
            Pods(component, replicas, linkerd_requests_of(settings.get("resources"), where=f"{component}.resources"))
        )
        pods.append(Pods(f"{component} linkerd-proxy", replicas, _viz_proxy_requests(settings, component, charts)))
    return pods


def _viz_proxy_requests(settings: Values, component: str, charts: InstalledCharts) -> Requests:
    if _at(settings, "proxy", "resources"):
        return linkerd_requests_of(_at(settings, "proxy", "resources"), where=f"{component}.proxy.resources")
    if "linkerd-control-plane" not in charts:
        raise UnknownFootprintError("its proxies are sized by a linkerd-control-plane chart, which the stack lacks")
    return linkerd_proxy_requests(charts["linkerd-control-plane"])


def _controller_proxy_requests(values: Values, key: str) -> Requests:
    """What a control-plane pod's proxy requests: its own `<pod>ProxyResources`, else `proxy.resources`."""
    if values.get(key):
        return linkerd_requests_of(values[key], where=key)
    return linkerd_requests_of(_at(values, "proxy", "resources"), where="proxy.resources")


# Consul

# Parts of the consul chart that would run pods this module does not size (all off by default).
CONSUL_UNSIZED_PARTS = (
    "client",
    "syncCatalog",
    "meshGateway",
    "ingressGateways",
    "terminatingGateways",
    "telemetryCollector",
)


def consul_pods(values: Values) -> list[Pods]:
    """consul: the servers (`server.replicas` * `server.resources`), the connect-injector
    (`connectInject.replicas` * `connectInject.resources`) and the one webhook-cert-manager pod
    (`webhookCertManager.resources`). The UI is served by the servers; the chart's jobs run to
    completion at install and upgrade."""
    enabled = [part for part in CONSUL_UNSIZED_PARTS if _mapping(values, part).get("enabled") is True]
    if enabled:
        raise UnknownFootprintError(f"enables {', '.join(enabled)}, whose pods are not sized")
    server, inject = _mapping(values, "server"), _mapping(values, "connectInject")
    return [
        Pods(
            "server",
            _replicas(server.get("replicas"), "server.replicas"),
            requests_of(server.get("resources"), where="server.resources"),
        ),
        Pods(
            "connect-injector",
            _replicas(inject.get("replicas"), "connectInject.replicas"),
            requests_of(inject.get("resources"), where="connectInject.resources"),
        ),
        Pods(
            "webhook-cert-manager",
            1,
            requests_of(_at(values, "webhookCertManager", "resources"), where="webhookCertManager.resources"),
        ),
    ]


# Add-ons


def prometheus_pods(values: Values) -> list[Pods]:
    """prometheus: one server pod: `server.resources` plus its config-reloader sidecar."""
    server = values.get("server") or {}
    reloader = (values.get("configmapReload") or {}).get("prometheus") or {}
    return [
        Pods("server", 1, requests_of(server.get("resources"), where="server.resources")),
        Pods(
            "config-reloader", 1, requests_of(reloader.get("resources"), where="configmapReload.prometheus.resources")
        ),
    ]


def grafana_pods(values: Values) -> list[Pods]:
    """grafana: `resources` * `replicas` (the chart's default of 1)."""
    return [Pods("grafana", int(values.get("replicas", 1)), requests_of(values.get("resources"), where="resources"))]


def kiali_pods(values: Values) -> list[Pods]:
    """kiali-server: `deployment.resources` * `deployment.replicas` (the chart's default of 1)."""
    deployment = values.get("deployment") or {}
    return [
        Pods(
            "kiali",
            int(deployment.get("replicas", 1)),
            requests_of(deployment.get("resources"), where="deployment.resources"),
        )
    ]


def jaeger_pods(values: Values) -> list[Pods]:
    """jaeger (v2, all-in-one): `jaeger.resources` * `jaeger.replicas`."""
    jaeger = values.get("jaeger") or {}
    return [
        Pods(
            "jaeger",
            _replicas(jaeger.get("replicas"), "jaeger.replicas"),
            requests_of(jaeger.get("resources"), where="jaeger.resources"),
        )
    ]


def no_pods(values: Values) -> list[Pods]:
    """Charts that deploy no pods (CRDs and cluster-wide objects only)."""
    return []


ChartExtractor = Callable[[Values, InstalledCharts], list[Pods]]


def from_own_values(extractor: Callable[[Values], list[Pods]]) -> ChartExtractor:
    """An extractor that reads its own chart's values only."""
    return lambda values, _charts: extractor(values)


CHART_EXTRACTORS: dict[str, ChartExtractor] = {
    "base": from_own_values(no_pods),
    "istiod": from_own_values(istiod_pods),
    "gateway": from_own_values(gateway_pods),
    "cni": from_own_values(cni_pods),
    "ztunnel": from_own_values(ztunnel_pods),
    "linkerd-crds": from_own_values(no_pods),
    "linkerd-control-plane": from_own_values(linkerd_control_plane_pods),
    "linkerd-viz": linkerd_viz_pods,
    "consul": from_own_values(consul_pods),
    "prometheus": from_own_values(prometheus_pods),
    "grafana": from_own_values(grafana_pods),
    "kiali-server": from_own_values(kiali_pods),
    "jaeger": from_own_values(jaeger_pods),
}


# Injected sidecars

PodMetadata = Mapping[str, Any]
NamespaceMetadata = Mapping[str, Any]


@dataclass(frozen=True)
class Injector:
    """A mesh's sidecar injector: which pods it injects (from their and their namespace's metadata),
    the chart whose values size the sidecar, and the pod annotations that override that size."""

    sidecar: str
    chart: str
    injects: Callable[[PodMetadata, NamespaceMetadata], bool]
    requests: Callable[[Values], Requests]
    cpu_annotation: str
    memory_annotation: str


def istio_injects(pod: PodMetadata, namespace: NamespaceMetadata) -> bool:
    """Istio's rule: the pod's `sidecar.istio.io/inject` label wins over its namespace's labels. An
    ambient namespace (`istio.io/dataplane-mode: ambient`) is not labelled for injection: no sidecar."""
    label = _labels(pod).get(POD_INJECTION_LABEL)
    if label is not None:
        return str(label).lower() == "true"
    return is_injected(_labels(namespace))


def linkerd_injects(pod: PodMetadata, namespace: NamespaceMetadata) -> bool:
    """Linkerd's rule: the pod's `linkerd.io/inject` annotation wins over its namespace's
    (`enabled`, or `ingress` for the proxy's ingress mode)."""
    value = _annotations(pod).get(LINKERD_INJECT_ANNOTATION, _annotations(namespace).get(LINKERD_INJECT_ANNOTATION))
    return value in ("enabled", "ingress")


def consul_injects(pod: PodMetadata, namespace: NamespaceMetadata) -> bool:
    """Consul's rule as the program installs it (`connectInject.default: false`): pods that opt in
    with `consul.hashicorp.com/connect-inject: "true"` on their template."""
    return str(_annotations(pod).get(CONSUL_INJECT_ANNOTATION, "")).lower() == "true"


def istio_proxy_requests(istiod: Values) -> Requests:
    """What Istio's injected proxy requests: the istiod chart's `global.proxy.resources`."""
    return requests_of(_at(istiod, "global", "proxy", "resources"), where="istiod global.proxy.resources")


def linkerd_proxy_requests(control_plane: Values) -> Requests:
    """What Linkerd's injected proxy requests: the linkerd-control-plane chart's `proxy.resources`."""
    return linkerd_requests_of(_at(control_plane, "proxy", "resources"), where="linkerd-control-plane proxy.resources")


def consul_dataplane_requests(consul: Values) -> Requests:
    """What Consul's injected consul-dataplane requests: the consul chart's `connectInject.sidecarProxy.resources`."""
    return requests_of(
        _at(consul, "connectInject", "sidecarProxy", "resources"), where="consul connectInject.sidecarProxy.resources"
    )


INJECTORS = (
    Injector(
        sidecar="istio-proxy",
        chart="istiod",
        injects=istio_injects,
        requests=istio_proxy_requests,
        cpu_annotation="sidecar.istio.io/proxyCPU",
        memory_annotation="sidecar.istio.io/proxyMemory",
    ),
    Injector(
        sidecar="linkerd-proxy",
        chart="linkerd-control-plane",
        injects=linkerd_injects,
        requests=linkerd_proxy_requests,
        cpu_annotation="config.linkerd.io/proxy-cpu-request",
        memory_annotation="config.linkerd.io/proxy-memory-request",
    ),
    Injector(
        sidecar="consul-dataplane",
        chart="consul",
        injects=consul_injects,
        requests=consul_dataplane_requests,
        cpu_annotation="consul.hashicorp.com/sidecar-proxy-cpu-request",
        memory_annotation="consul.hashicorp.com/sidecar-proxy-memory-request",
    ),
)


def sidecar_requests(injector: Injector, charts: InstalledCharts, pod: PodMetadata) -> Requests:
    """What `injector` adds to `pod`: its chart's sidecar requests, or the pod's own overrides."""
    if injector.chart not in charts:
        raise UnknownFootprintError(
            f"injected ({injector.sidecar}), but the stack installs no {injector.chart} chart to size the sidecar"
        )
    default = injector.requests(charts[injector.chart])
    annotations = _annotations(pod)
    cpu, memory = annotations.get(injector.cpu_annotation), annotations.get(injector.memory_annotation)
    return Requests(
        parse_quantity(str(cpu)) if cpu is not None else default.cpu,
        parse_quantity(str(memory)) if memory is not None else default.memory,
    )


# The stack


def chart_name(chart: str) -> str:
    """The chart's name whatever its source: `istiod`, `oci://…/istiod` and `/srv/charts/istiod`."""
    return chart.rstrip("/").rsplit("/", 1)[-1]


def stack_footprint(run: StackRun) -> Footprint:
    """The footprint of everything `run` registered, sorted by component."""
    charts = installed_charts(run)
    components = [
        *_chart_footprints(run, charts),
        *_workload_footprints(run, charts),
        *_waypoint_footprints(run, charts),
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
    namespaces = _namespace_metadata(run)
    for workload in run.resources:
        if workload.type in UNSIZED_WORKLOAD_TYPES:
            yield ComponentFootprint(workload.name, unknown=f"{_kind(workload)} pods are not sized by replicas")
        if workload.type not in WORKLOAD_TYPES:
            continue
        spec = workload.inputs.get("spec") or {}
        replicas = _replicas(spec.get("replicas", 1), "spec.replicas")
        pod = spec.get("template") or {}
        metadata = pod.get("metadata") or {}
        groups = [Pods(_kind(workload), replicas, _pod_requests(pod.get("spec") or {}))]
        for injector in INJECTORS:
            if not injector.injects(metadata, namespaces.get(_namespace_of(workload), {})):
                continue
            try:
                groups.append(Pods(injector.sidecar, replicas, sidecar_requests(injector, charts, metadata)))
            except UnknownFootprintError as error:
                yield ComponentFootprint(f"{workload.name} (sidecar)", unknown=str(error))
        yield ComponentFootprint(workload.name, tuple(groups))


def _waypoint_footprints(run: StackRun, charts: InstalledCharts) -> Iterator[ComponentFootprint]:
    """Istio's waypoints (ambient): each `Gateway` of class `istio-waypoint` runs one proxy pod, which
    istiod deploys and sizes."""
    for gateway in run.of_type(WAYPOINT_TYPE):
        if _at(gateway.inputs, "spec", "gatewayClassName") != WAYPOINT_GATEWAY_CLASS:
            continue
        if "istiod" not in charts:
            yield ComponentFootprint(gateway.name, unknown="a waypoint, but the stack installs no istiod chart")
            continue
        try:
            yield ComponentFootprint(gateway.name, (Pods("waypoint", 1, waypoint_requests(charts["istiod"])),))
        except UnknownFootprintError as error:
            yield ComponentFootprint(gateway.name, unknown=str(error))


def _pod_requests(pod_spec: Mapping[str, Any]) -> Requests:
    """The sum of the containers' requests; a container without requests requests nothing."""
    return sum(
        (_container_requests(container.get("resources") or {}) for container in pod_spec.get("containers") or []),
        Requests(),
    )


def _container_requests(resources: Mapping[str, Any]) -> Requests:
    requests = resources.get("requests") or {}
    return Requests(parse_quantity(str(requests.get("cpu", 0))), parse_quantity(str(requests.get("memory", 0))))


def _namespace_metadata(run: StackRun) -> dict[str, NamespaceMetadata]:
    """The metadata (labels, annotations) of every namespace the program declares, by name."""
    return {
        namespace.inputs["metadata"]["name"]: namespace.inputs["metadata"] for namespace in run.of_type(NAMESPACE_TYPE)
    }


def _labels(metadata: Mapping[str, Any]) -> Mapping[str, Any]:
    return metadata.get("labels") or {}


def _annotations(metadata: Mapping[str, Any]) -> Mapping[str, Any]:
    return metadata.get("annotations") or {}


def _namespace_of(resource: RegisteredResource) -> str:
    return (resource.inputs.get("metadata") or {}).get("namespace") or "default"


def _kind(resource: RegisteredResource) -> str:
    return resource.type.rsplit(":", 1)[-1]


def _at(values: Mapping[str, Any] | None, *path: str) -> Any:
    """The value at `path` in nested mappings, or None where any part is missing."""
    node: Any = values
    for key in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node


def _mapping(values: Values, key: str) -> Values:
    """The mapping under `key`, or an empty one (a chart value left out, or null)."""
    value = values.get(key)
    return value if isinstance(value, Mapping) else {}


def _replicas(value: Any, key: str) -> int:
    # The engine's wire format carries numbers as floats.
    if value is None:
        raise UnknownFootprintError(f"{key} is not set; the chart's default applies")
    return int(value)
