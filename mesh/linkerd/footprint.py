"""What Linkerd runs, read from the values of its charts as a stack registers them: the control
plane's containers and proxies, the viz extension's components and proxies, and the proxy it
injects. Linkerd's charts size a container by `{cpu: {request, limit}, memory: {request, limit}}`
and set no requests by default, so a container whose values set none is of unknown size."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mesh.footprint import (
    Injector,
    InstalledCharts,
    MeshFootprint,
    NamespaceObject,
    Pods,
    PodTemplate,
    UnknownFootprintError,
    Values,
    chart_replicas,
    from_own_values,
    no_pods,
)
from mesh.linkerd.manifests import INJECT_ANNOTATION
from mesh.linkerd.values import CONTROL_PLANE_CHART, CONTROLLER_PODS, CRDS_CHART, VIZ_CHART, VIZ_COMPONENTS
from mesh.objects import annotations_of, lookup, mapping_at
from settings.quantities import Requests, parse_quantity


def linkerd_requests_of(resources: Mapping[str, Any] | None, *, where: str) -> Requests:
    """The requests of a resources block in Linkerd's shape; without them the chart's default applies
    (no request, so the limit if any), which is unknown."""
    blocks = resources or {}
    requests = {resource: (blocks.get(resource) or {}).get("request") for resource in ("cpu", "memory")}
    missing = [resource for resource, request in requests.items() if request in (None, "")]
    if missing:
        raise UnknownFootprintError(f"{where} sets no {' or '.join(missing)} request; the chart's default applies")
    return Requests(parse_quantity(str(requests["cpu"])), parse_quantity(str(requests["memory"])))


def control_plane_pods(values: Values) -> list[Pods]:
    """linkerd-control-plane: per `controllerReplicas`, each container of its pods (sized by its own
    key) and a proxy in each pod (`<pod>ProxyResources`, else `proxy.resources`)."""
    replicas = chart_replicas(values.get("controllerReplicas"), "controllerReplicas")
    containers = [
        Pods(container, replicas, linkerd_requests_of(lookup(values, *path), where=".".join(path)))
        for pod in CONTROLLER_PODS
        for container, path in pod.containers.items()
    ]
    proxies = [
        Pods(f"{pod.name} linkerd-proxy", replicas, _controller_proxy_requests(values, pod.proxy_resources_key))
        for pod in CONTROLLER_PODS
    ]
    return containers + proxies


def viz_pods(values: Values, charts: InstalledCharts) -> list[Pods]:
    """linkerd-viz: each component (metrics API, tap, tap injector, dashboard) * its `replicas` (the
    chart's default of 1), each pod with a proxy sized by its `proxy.resources`, else by the control
    plane's `proxy.resources` (the injector's default). Its own Prometheus is not sized."""
    if mapping_at(values, "prometheus").get("enabled", True):
        raise UnknownFootprintError("runs its own Prometheus (prometheus.enabled, the chart's default), not sized")
    pods = []
    for component in VIZ_COMPONENTS:
        settings = mapping_at(values, component)
        replicas = int(settings.get("replicas", 1))
        pods.append(
            Pods(component, replicas, linkerd_requests_of(settings.get("resources"), where=f"{component}.resources"))
        )
        pods.append(Pods(f"{component} linkerd-proxy", replicas, _viz_proxy_requests(settings, component, charts)))
    return pods


def _viz_proxy_requests(settings: Values, component: str, charts: InstalledCharts) -> Requests:
    if lookup(settings, "proxy", "resources"):
        return linkerd_requests_of(lookup(settings, "proxy", "resources"), where=f"{component}.proxy.resources")
    if CONTROL_PLANE_CHART not in charts:
        raise UnknownFootprintError(f"its proxies are sized by a {CONTROL_PLANE_CHART} chart, which the stack lacks")
    return proxy_requests(charts[CONTROL_PLANE_CHART])


def _controller_proxy_requests(values: Values, key: str) -> Requests:
    """What a control-plane pod's proxy requests: its own `<pod>ProxyResources`, else `proxy.resources`."""
    if values.get(key):
        return linkerd_requests_of(values[key], where=key)
    return linkerd_requests_of(lookup(values, "proxy", "resources"), where="proxy.resources")


def injects(pod: PodTemplate, namespace: NamespaceObject) -> bool:
    """Linkerd's rule: the pod's `linkerd.io/inject` annotation wins over its namespace's
    (`enabled`, or `ingress` for the proxy's ingress mode)."""
    value = annotations_of(pod).get(INJECT_ANNOTATION, annotations_of(namespace).get(INJECT_ANNOTATION))
    return value in ("enabled", "ingress")


def proxy_requests(control_plane: Values) -> Requests:
    """What Linkerd's injected proxy requests: the control plane chart's `proxy.resources`."""
    return linkerd_requests_of(
        lookup(control_plane, "proxy", "resources"), where=f"{CONTROL_PLANE_CHART} proxy.resources"
    )


FOOTPRINT = MeshFootprint(
    charts={
        CRDS_CHART: no_pods,
        CONTROL_PLANE_CHART: from_own_values(control_plane_pods),
        VIZ_CHART: viz_pods,
    },
    injector=Injector(
        sidecar="linkerd-proxy",
        chart=CONTROL_PLANE_CHART,
        injects=injects,
        requests=proxy_requests,
        cpu_annotation="config.linkerd.io/proxy-cpu-request",
        memory_annotation="config.linkerd.io/proxy-memory-request",
    ),
)
