"""Exposure: in prod, nothing is reachable from outside the cluster but the mesh's ingress gateway.

Whatever a Service is named, it may be a LoadBalancer or NodePort, or have external IPs, only when
it is the ingress gateway's: its selector picks pods that a mesh recognises as its ingress gateway
(`MeshGuardrails.is_ingress_gateway`: what runs in them, not what they are called) and no other pod
of its namespace. No Ingress, no Gateway API Gateway but the mesh's in-cluster proxies (waypoints),
no route attached to any other Gateway. A Helm install's values are read for what would create the
same (a Service type, external IPs, an ingress), but for the chart of the mesh's ingress gateway.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from mesh.charts import HELM_INSTALL_TYPES
from mesh.guardrails import Resource, Violation, describe
from mesh.implementations import REGISTRY
from mesh.objects import (
    SERVICE,
    WORKLOAD_TYPES,
    chart_name,
    is_kind,
    items_at,
    kind_of,
    lookup,
    mapping_at,
    name_of,
    namespace_of,
    pod_metadata_of,
    pod_spec_of,
)

EXPOSED_SERVICE_TYPES = frozenset({"LoadBalancer", "NodePort"})
GATEWAY_API_GROUP = "gateway.networking.k8s.io"
ROUTE_KINDS = frozenset({"HTTPRoute", "GRPCRoute", "TLSRoute", "TCPRoute", "UDPRoute"})
INTERNAL_GATEWAY_CLASSES = frozenset(
    gateway_class for entry in REGISTRY for gateway_class in entry.policy.internal_gateway_classes
)
INGRESS_GATEWAY_CHARTS = frozenset(
    entry.policy.ingress_gateway_chart for entry in REGISTRY if entry.policy.ingress_gateway_chart
)
_PRIVATE_WAY = (
    "keep it ClusterIP without externalIPs and reach it with kubectl port-forward, or route to it through the "
    "mesh's ingress gateway behind authentication"
)


def exposure_violations(resources: Sequence[Resource]) -> list[Violation]:
    """Nothing of the stack is reachable from outside the cluster but the mesh's ingress gateway."""
    # (namespace, labels, whether it is the ingress gateway) of every workload's pods.
    pods = [
        (
            namespace_of(resource.props),
            mapping_at(pod_metadata_of(resource.type, resource.props), "labels"),
            _is_ingress_gateway(resource),
        )
        for resource in resources
        if resource.type in WORKLOAD_TYPES
    ]
    internal_gateways = {
        (namespace_of(resource.props), name_of(resource.props))
        for resource in resources
        if _is_gateway(resource.type) and lookup(resource.props, "spec", "gatewayClassName") in INTERNAL_GATEWAY_CLASSES
    }
    violations = []
    for resource in resources:
        messages = []
        if resource.type == SERVICE:
            messages = _service_exposures(resource.props, pods)
        elif is_kind(resource.type, "networking.k8s.io", "Ingress"):
            messages = [
                f"{describe(resource.type, resource.props)} routes traffic from outside the cluster in prod, "
                f"beside the mesh's ingress gateway (without its mTLS and authorization): remove it and {_PRIVATE_WAY}"
            ]
        elif _is_gateway(resource.type):
            if (namespace_of(resource.props), name_of(resource.props)) not in internal_gateways:
                messages = [
                    f"{describe(resource.type, resource.props)} (class "
                    f"{lookup(resource.props, 'spec', 'gatewayClassName')!r}) is a second entry point into the "
                    "cluster in prod, whose proxy and Service the stack does not review: route through the "
                    "mesh's ingress gateway instead"
                ]
        elif kind_of(resource.type) in ROUTE_KINDS:
            messages = _route_exposures(resource.type, resource.props, internal_gateways)
        elif resource.type in HELM_INSTALL_TYPES:
            messages = _values_exposures(resource.props)
        violations += [Violation(message, resource.urn) for message in messages]
    return violations


def _is_ingress_gateway(workload: Resource) -> bool:
    metadata = pod_metadata_of(workload.type, workload.props)
    pod_spec = pod_spec_of(workload.type, workload.props) or {}
    return any(entry.policy.is_ingress_gateway(metadata, pod_spec) for entry in REGISTRY)


def _is_exposed_type(service_type: Any) -> bool:
    return isinstance(service_type, str) and service_type in EXPOSED_SERVICE_TYPES


def _is_gateway(resource_type: str) -> bool:
    return is_kind(resource_type, GATEWAY_API_GROUP, "Gateway")


def _service_exposures(props: Mapping[str, Any], pods: Sequence[tuple[str, Mapping[str, Any], bool]]) -> list[str]:
    service_type = lookup(props, "spec", "type")
    reasons = [f"is a {service_type}"] if _is_exposed_type(service_type) else []
    if items_at(props, "spec", "externalIPs"):
        reasons.append(f"has externalIPs {', '.join(map(str, items_at(props, 'spec', 'externalIPs')))}")
    if not reasons or _selects_only_ingress_gateway(props, pods):
        return []
    narrowed = (
        " (loadBalancerSourceRanges narrow who reaches it, they do not make it private)"
        if service_type == "LoadBalancer" and items_at(props, "spec", "loadBalancerSourceRanges")
        else ""
    )
    return [
        f"{describe(SERVICE, props)} {' and '.join(reasons)}, reachable from outside the cluster in prod{narrowed}, "
        f"and it is not the mesh's ingress gateway (a Service selecting only the gateway's pods): {_PRIVATE_WAY}"
    ]


def _selects_only_ingress_gateway(
    props: Mapping[str, Any], pods: Sequence[tuple[str, Mapping[str, Any], bool]]
) -> bool:
    selector = mapping_at(props, "spec", "selector")
    namespace = namespace_of(props)
    selected = [
        gateway
        for pod_namespace, labels, gateway in pods
        if pod_namespace == namespace and all(labels.get(key) == value for key, value in selector.items())
    ]
    return bool(selector) and bool(selected) and all(selected)


def _route_exposures(
    resource_type: str, props: Mapping[str, Any], internal_gateways: set[tuple[str, str]]
) -> list[str]:
    outside = [
        f"{parent.get('namespace') or namespace_of(props)}/{parent.get('name')}"
        for parent in items_at(props, "spec", "parentRefs")
        if isinstance(parent, Mapping)
        and (parent.get("group") or GATEWAY_API_GROUP) == GATEWAY_API_GROUP
        and (parent.get("kind") or "Gateway") == "Gateway"
        and (str(parent.get("namespace") or namespace_of(props)), str(parent.get("name"))) not in internal_gateways
    ]
    if not outside:
        return []
    return [
        f"{describe(resource_type, props)} attaches to the Gateway {', '.join(outside)}, an entry point into the "
        f"cluster in prod other than the mesh's ingress gateway: remove it, and {_PRIVATE_WAY}"
    ]


def _values_exposures(props: Mapping[str, Any]) -> list[str]:
    chart = str(lookup(props, "chart") or "")
    if chart_name(chart) in INGRESS_GATEWAY_CHARTS:
        return []
    return [
        f"chart '{chart}' sets values.{path} = {value}, which makes what it installs reachable from outside the "
        f"cluster in prod: leave it at the chart's private default, and {_PRIVATE_WAY}"
        for path, value in exposures_in_values(mapping_at(props, "values"))
    ]


def exposures_in_values(values: Mapping[str, Any], path: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted path, value) of everything a chart's values set that would expose a Service, at any depth:
    a `type` LoadBalancer or NodePort under a key ending in `service` (`service.type`,
    `server.service.type`), a `service_type` or `serviceType` (Kiali's `deployment.service_type`),
    non-empty `externalIPs`, and `enabled: true` under a key ending in `ingress` or `route` (Jaeger's
    `httproute`)."""
    for key, value in values.items():
        key_path = f"{path}.{key}" if path else str(key)
        name = str(key).lower()
        if isinstance(value, Mapping):
            if name.endswith("service") and _is_exposed_type(value.get("type")):
                yield f"{key_path}.type", value["type"]
            if name.endswith(("ingress", "route")) and value.get("enabled") is True:
                yield f"{key_path}.enabled", True
            yield from exposures_in_values(value, key_path)
        elif name in ("service_type", "servicetype") and _is_exposed_type(value):
            yield key_path, value
        elif isinstance(value, Sequence) and not isinstance(value, str):
            if name == "externalips" and value:
                yield key_path, list(value)
            for index, item in enumerate(value):
                if isinstance(item, Mapping):
                    yield from exposures_in_values(item, f"{key_path}[{index}]")
