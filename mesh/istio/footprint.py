"""What Istio runs, read from the values of its charts as a stack registers them: istiod, the
ingress gateway, the ambient node agents (istio-cni and ztunnel, for one node), the sidecar it
injects, and the waypoint it deploys for each waypoint `Gateway`."""

from __future__ import annotations

from mesh.footprint import (
    APPS,
    GATEWAY,
    NODE_AGENTS,
    Injector,
    InstalledCharts,
    MeshFootprint,
    NamespaceObject,
    Pods,
    PodTemplate,
    UnknownFootprintError,
    Values,
    from_own_values,
    no_pods,
    replicated_pods,
    requests_of,
)
from mesh.istio.manifests import GATEWAY_API_VERSION, POD_INJECTION_LABEL, WAYPOINT_GATEWAY_CLASS, is_injected
from mesh.istio.values import BASE_CHART, CNI_CHART, CONTROL_PLANE_CHART, GATEWAY_CHART, ZTUNNEL_CHART
from mesh.objects import labels_of, lookup
from settings.quantities import Requests

WAYPOINT_TYPE = f"kubernetes:{GATEWAY_API_VERSION}:Gateway"


def istiod_pods(values: Values) -> list[Pods]:
    """istiod: `resources.requests` * (`autoscaleMin` if `autoscaleEnabled` else `replicaCount`)."""
    replicas = "autoscaleMin" if values.get("autoscaleEnabled") else "replicaCount"
    return [replicated_pods("istiod", values, replicas=(replicas,), resources=("resources",))]


def gateway_pods(values: Values) -> list[Pods]:
    """gateway: `resources.requests` * (`autoscaling.minReplicas` if enabled else `replicaCount`)."""
    replicas = ("autoscaling", "minReplicas") if lookup(values, "autoscaling", "enabled") else ("replicaCount",)
    return [replicated_pods("gateway", values, replicas=replicas, resources=("resources",), part=GATEWAY)]


def cni_pods(values: Values) -> list[Pods]:
    """cni (ambient): the istio-cni node agent, a DaemonSet: `resources.requests` for one node."""
    return [Pods("istio-cni (per node)", 1, requests_of(values.get("resources"), where="resources"), NODE_AGENTS)]


def ztunnel_pods(values: Values) -> list[Pods]:
    """ztunnel (ambient): the node proxy, a DaemonSet: `resources.requests` for one node."""
    return [Pods("ztunnel (per node)", 1, requests_of(values.get("resources"), where="resources"), NODE_AGENTS)]


def injects(pod: PodTemplate, namespace: NamespaceObject) -> bool:
    """Istio's rule: the pod's `sidecar.istio.io/inject` label wins over its namespace's labels. An
    ambient namespace (`istio.io/dataplane-mode: ambient`) is not labelled for injection: no sidecar."""
    label = labels_of(pod).get(POD_INJECTION_LABEL)
    if label is not None:
        return str(label).lower() == "true"
    return is_injected(labels_of(namespace))


def proxy_requests(istiod: Values) -> Requests:
    """What Istio's injected proxy requests: the istiod chart's `global.proxy.resources`."""
    return requests_of(lookup(istiod, "global", "proxy", "resources"), where="istiod global.proxy.resources")


def waypoint_requests(istiod: Values) -> Requests:
    """What one waypoint pod requests: istiod deploys it from its chart's `global.waypoint.resources`."""
    return requests_of(lookup(istiod, "global", "waypoint", "resources"), where="istiod global.waypoint.resources")


def waypoint_pods(resource_type: str, props: Values, charts: InstalledCharts) -> list[Pods] | None:
    """A waypoint (ambient): each `Gateway` of class `istio-waypoint` runs one proxy pod, which
    istiod deploys and sizes; any other object runs none."""
    if resource_type != WAYPOINT_TYPE or lookup(props, "spec", "gatewayClassName") != WAYPOINT_GATEWAY_CLASS:
        return None
    if CONTROL_PLANE_CHART not in charts:
        raise UnknownFootprintError(f"a waypoint, but the stack installs no {CONTROL_PLANE_CHART} chart")
    return [Pods("waypoint", 1, waypoint_requests(charts[CONTROL_PLANE_CHART]), APPS)]


FOOTPRINT = MeshFootprint(
    charts={
        BASE_CHART: no_pods,
        CONTROL_PLANE_CHART: from_own_values(istiod_pods),
        GATEWAY_CHART: from_own_values(gateway_pods),
        CNI_CHART: from_own_values(cni_pods),
        ZTUNNEL_CHART: from_own_values(ztunnel_pods),
    },
    injector=Injector(
        sidecar="istio-proxy",
        chart=CONTROL_PLANE_CHART,
        injects=injects,
        requests=proxy_requests,
        cpu_annotation="sidecar.istio.io/proxyCPU",
        memory_annotation="sidecar.istio.io/proxyMemory",
    ),
    object_pods=waypoint_pods,
)
