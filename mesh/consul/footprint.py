"""What Consul runs, read from the values of its chart as a stack registers them: the servers, the
connect-injector, the webhook-cert-manager, and the consul-dataplane it injects."""

from __future__ import annotations

from mesh.consul.manifests import is_injected
from mesh.consul.values import CONTROL_PLANE_CHART
from mesh.footprint import (
    Injector,
    MeshFootprint,
    NamespaceObject,
    Pods,
    PodTemplate,
    UnknownFootprintError,
    Values,
    from_own_values,
    replicated_pods,
    requests_of,
)
from mesh.objects import annotations_of, lookup, mapping_at
from settings.quantities import Requests

# Parts of the consul chart that would run pods this reader does not size (all off by default).
UNSIZED_PARTS = (
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
    enabled = [part for part in UNSIZED_PARTS if mapping_at(values, part).get("enabled") is True]
    if enabled:
        raise UnknownFootprintError(f"enables {', '.join(enabled)}, whose pods are not sized")
    return [
        replicated_pods("server", values, replicas=("server", "replicas"), resources=("server", "resources")),
        replicated_pods(
            "connect-injector",
            values,
            replicas=("connectInject", "replicas"),
            resources=("connectInject", "resources"),
        ),
        Pods(
            "webhook-cert-manager",
            1,
            requests_of(lookup(values, "webhookCertManager", "resources"), where="webhookCertManager.resources"),
        ),
    ]


def injects(pod: PodTemplate, namespace: NamespaceObject) -> bool:
    """Consul's rule (`is_injected`): the pod's own annotation decides, whatever its namespace."""
    return is_injected(annotations_of(pod))


def dataplane_requests(consul: Values) -> Requests:
    """What the injected consul-dataplane requests: the chart's `connectInject.sidecarProxy.resources`."""
    return requests_of(
        lookup(consul, "connectInject", "sidecarProxy", "resources"),
        where=f"{CONTROL_PLANE_CHART} connectInject.sidecarProxy.resources",
    )


FOOTPRINT = MeshFootprint(
    charts={CONTROL_PLANE_CHART: from_own_values(consul_pods)},
    injector=Injector(
        sidecar="consul-dataplane",
        chart=CONTROL_PLANE_CHART,
        injects=injects,
        requests=dataplane_requests,
        cpu_annotation="consul.hashicorp.com/sidecar-proxy-cpu-request",
        memory_annotation="consul.hashicorp.com/sidecar-proxy-memory-request",
    ),
)
