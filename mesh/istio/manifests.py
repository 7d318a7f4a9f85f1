"""Small pure builders of the Istio objects, labels and identities the mesh declares."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mesh.attachment import Workload, pod_security_labels
from mesh.istio.settings import GatewaySettings
from mesh.objects import is_kind
from settings.models import IngressSettings

PEER_AUTHENTICATION_API_VERSION = "security.istio.io/v1"
AUTHORIZATION_POLICY_API_VERSION = "security.istio.io/v1"
NETWORKING_API_VERSION = "networking.istio.io/v1"
MESH_WIDE_POLICY_NAME = "default"
ALLOW_NOTHING_POLICY_NAME = "allow-nothing"
# Istio's opt-out for a pod: the add-ons run outside the mesh, as upstream's samples/addons do.
POD_INJECTION_LABEL = "sidecar.istio.io/inject"
NOT_INJECTED_POD_LABELS = {POD_INJECTION_LABEL: "false"}
SIDECAR_INJECTION_LABEL = "istio-injection"
REVISION_LABEL = "istio.io/rev"

# Injected sidecars without istio-cni get an `istio-init` container that needs NET_ADMIN and
# NET_RAW to redirect traffic with iptables; Pod Security admission's `baseline` and `restricted`
# levels refuse those capabilities, so enforcing either would reject every injected pod. Only a
# mesh with istio-cni (or ambient) can enforce `restricted`. The app containers are still held to
# `restricted` by the warn and audit labels, so a regression in their own spec is reported.
SIDECAR_POD_SECURITY_LABELS = pod_security_labels(enforce="privileged")
# Ambient pods are left untouched (istio-cni redirects traffic inside their network namespace and
# ztunnel runs on the node), so their namespace can enforce `restricted`.
AMBIENT_POD_SECURITY_LABELS = pod_security_labels(enforce="restricted")
DATAPLANE_MODE_LABEL = "istio.io/dataplane-mode"
AMBIENT_DATAPLANE_MODE = "ambient"
NOT_IN_AMBIENT_POD_LABELS = {DATAPLANE_MODE_LABEL: "none"}
# A waypoint is a Gateway API Gateway of this class; istiod deploys it, with a ServiceAccount of
# the Gateway's name. Services opt in with USE_WAYPOINT_LABEL; ingress traffic follows with
# INGRESS_USE_WAYPOINT_LABEL, so the waypoint (not ztunnel) sees the gateway's identity too.
GATEWAY_API_VERSION = "gateway.networking.k8s.io/v1"
WAYPOINT_GATEWAY_CLASS = "istio-waypoint"
WAYPOINT_NAME = "waypoint"
WAYPOINT_FOR_LABEL = "istio.io/waypoint-for"
USE_WAYPOINT_LABEL = "istio.io/use-waypoint"
INGRESS_USE_WAYPOINT_LABEL = "istio.io/ingress-use-waypoint"
HBONE_PORT = 15008


def injection_labels(revision: str | None) -> dict[str, str]:
    """The one label that enrols a namespace: `istio.io/rev=<tag or revision>` with revisions,
    else `istio-injection=enabled`. Never both: the legacy label would silently win."""
    if revision is None:
        return {SIDECAR_INJECTION_LABEL: "enabled"}
    return {REVISION_LABEL: revision}


def is_injected(namespace_labels: Mapping[str, str]) -> bool:
    """Whether a namespace with these labels gets sidecars injected: the legacy label, when
    present, decides alone (`disabled` wins over any revision label), as in Istio."""
    if SIDECAR_INJECTION_LABEL in namespace_labels:
        return namespace_labels[SIDECAR_INJECTION_LABEL] == "enabled"
    return bool(namespace_labels.get(REVISION_LABEL))


def is_peer_authentication(resource_type: str) -> bool:
    """Whether a type token (`kubernetes:<group>/<version>:<Kind>`) is a `PeerAuthentication`, of any version."""
    group, _, _ = PEER_AUTHENTICATION_API_VERSION.partition("/")
    return is_kind(resource_type, group, "PeerAuthentication")


def mesh_wide_peer_authentication(*, root_namespace: str, mode: str) -> dict[str, Any]:
    """The mesh-wide `PeerAuthentication`: named `default`, in the root namespace, no selector."""
    return {
        "apiVersion": PEER_AUTHENTICATION_API_VERSION,
        "kind": "PeerAuthentication",
        "metadata": {"name": MESH_WIDE_POLICY_NAME, "namespace": root_namespace},
        "spec": {"mtls": {"mode": mode}},
    }


def allow_nothing_policy(*, namespace: str) -> dict[str, Any]:
    """An `AuthorizationPolicy` with an empty spec: it denies every request to the namespace
    that no other ALLOW policy lets through."""
    return {
        "apiVersion": AUTHORIZATION_POLICY_API_VERSION,
        "kind": "AuthorizationPolicy",
        "metadata": {"name": ALLOW_NOTHING_POLICY_NAME, "namespace": namespace},
        "spec": {},
    }


def allow_from_principals(
    *,
    name: str,
    namespace: str,
    principals: Sequence[str],
    selector: Mapping[str, str] | None = None,
    target_service: str | None = None,
    methods: Sequence[str] = (),
) -> dict[str, Any]:
    """An ALLOW `AuthorizationPolicy` for the pods matching `selector` (enforced by their sidecar,
    or by ztunnel in ambient) or for `target_service` (enforced by its waypoint), from `principals`
    only and, with `methods`, only for those HTTP methods.

    With no principals the policy has no rules, and an ALLOW policy without rules allows nothing.
    """
    spec: dict[str, Any] = {"action": "ALLOW"}
    if target_service is not None:
        spec["targetRefs"] = [{"kind": "Service", "group": "", "name": target_service}]
    else:
        spec["selector"] = {"matchLabels": dict(selector or {})}
    if principals:
        rule: dict[str, Any] = {"from": [{"source": {"principals": list(principals)}}]}
        if methods:
            rule["to"] = [{"operation": {"methods": list(methods)}}]
        spec["rules"] = [rule]
    return {
        "apiVersion": AUTHORIZATION_POLICY_API_VERSION,
        "kind": "AuthorizationPolicy",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def waypoint(*, namespace: str) -> dict[str, Any]:
    """The namespace's waypoint: the L7 proxy that enforces policies targeting its Services."""
    return {
        "apiVersion": GATEWAY_API_VERSION,
        "kind": "Gateway",
        "metadata": {"name": WAYPOINT_NAME, "namespace": namespace, "labels": {WAYPOINT_FOR_LABEL: "service"}},
        "spec": {
            "gatewayClassName": WAYPOINT_GATEWAY_CLASS,
            "listeners": [{"name": "mesh", "port": HBONE_PORT, "protocol": "HBONE"}],
        },
    }


def spiffe_principal(*, trust_domain: str, namespace: str, service_account: str) -> str:
    """A workload's identity as AuthorizationPolicy `principals` name it."""
    return f"{trust_domain}/ns/{namespace}/sa/{service_account}"


def gateway_selector(gateway: GatewaySettings) -> dict[str, str]:
    """The pod labels the gateway chart gives the gateway: `istio: <release name without istio->`."""
    return {"istio": gateway.name.removeprefix("istio-")}


def gateway_access_hint(gateway: GatewaySettings) -> str:
    """A command that shows an operator how to reach the ingress gateway for its Service type."""
    service = f"-n {gateway.namespace} svc/{gateway.name}"
    if gateway.service_type == "LoadBalancer":
        return f"kubectl get {service} -o jsonpath='{{.status.loadBalancer.ingress[0]}}'  # then http://<address>/"
    if gateway.service_type == "NodePort":
        return (
            f"kubectl get {service} -o jsonpath='{{.spec.ports[?(@.name==\"http2\")].nodePort}}'"
            "  # then http://<node address>:<port>/"
        )
    return f"kubectl port-forward {service} 8080:80  # then http://localhost:8080/"


def ingress_gateway(*, app: Workload, ingress: IngressSettings, gateway_selector: Mapping[str, str]) -> dict[str, Any]:
    """An Istio `Gateway` for the app's host on the ingress gateway pods `gateway_selector`
    matches: HTTP, or HTTPS with the configured certificate Secret and a redirect from HTTP."""
    host = ingress.host
    if ingress.tls_secret:
        servers = [
            {
                "port": {"number": 443, "name": "https", "protocol": "HTTPS"},
                "hosts": [host],
                "tls": {"mode": "SIMPLE", "credentialName": ingress.tls_secret},
            },
            {
                "port": {"number": 80, "name": "http", "protocol": "HTTP"},
                "hosts": [host],
                "tls": {"httpsRedirect": True},
            },
        ]
    else:
        servers = [{"port": {"number": 80, "name": "http", "protocol": "HTTP"}, "hosts": [host]}]
    return {
        "apiVersion": NETWORKING_API_VERSION,
        "kind": "Gateway",
        "metadata": {"name": app.name, "namespace": app.namespace},
        "spec": {"selector": dict(gateway_selector), "servers": servers},
    }


def ingress_route(*, app: Workload, ingress: IngressSettings) -> dict[str, Any]:
    """A `VirtualService` routing the app's host and path prefix on its Gateway to its Service."""
    return {
        "apiVersion": NETWORKING_API_VERSION,
        "kind": "VirtualService",
        "metadata": {"name": app.name, "namespace": app.namespace},
        "spec": {
            "hosts": [ingress.host],
            "gateways": [f"{app.namespace}/{app.name}"],
            "http": [
                {
                    "match": [{"uri": {"prefix": ingress.path_prefix}}],
                    "route": [{"destination": {"host": app.service_host, "port": {"number": app.port}}}],
                }
            ],
        },
    }
