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
    """The pod labels the gateway chart gives the ingress gateway."""
    return release_selector(gateway.name)


def release_selector(release_name: str) -> dict[str, str]:
    """The pod labels the gateway chart gives the gateway it installs as `release_name`:
    `istio: <release name without istio->`."""
    return {"istio": release_name.removeprefix("istio-")}


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


# Multi-primary on different networks (`mesh.istio.multiCluster`): each cluster's namespace,
# east-west gateway and pods carry its network; the other clusters' sidecars reach its pods
# through the gateway's mTLS passthrough port, and the other clusters' istiod read its API server.
NETWORK_LABEL = "topology.istio.io/network"
STATUS_PORT = 15021
CROSS_NETWORK_PORT = 15443
EAST_WEST_GATEWAY_NAME = "istio-eastwestgateway"
CROSS_NETWORK_GATEWAY_NAME = "cross-network-gateway"
MULTI_CLUSTER_SECRET_LABEL = "istio/multiCluster"
REMOTE_CLUSTER_ANNOTATION = "networking.istio.io/cluster"
REMOTE_SECRET_PREFIX = "istio-remote-secret-"
REMOTE_READER_NAME = "istio-remote-reader"
READ_VERBS = ["get", "list", "watch"]
# What another cluster's istiod reads here to route to this cluster's pods: the read rules of the
# istiod chart's `istio-reader-clusterrole-*`, less what only a primary-remote mesh needs (secrets
# for a remote cluster's gateways, token and access reviews for its workloads, configmaps it would
# write) and less its write rights (MCS serviceexports). Why not that chart's role and its
# `istio-reader-service-account`: they grant all of those, and a token here lives in other clusters.
REMOTE_READER_RULES = [
    {
        "apiGroups": [
            "config.istio.io",
            "security.istio.io",
            "networking.istio.io",
            "authentication.istio.io",
            "rbac.istio.io",
            "telemetry.istio.io",
            "extensions.istio.io",
        ],
        "resources": ["*"],
        "verbs": READ_VERBS,
    },
    {
        "apiGroups": [""],
        "resources": ["endpoints", "pods", "services", "nodes", "replicationcontrollers", "namespaces"],
        "verbs": READ_VERBS,
    },
    {"apiGroups": ["networking.x-k8s.io", "gateway.networking.k8s.io"], "resources": ["gateways"], "verbs": READ_VERBS},
    {"apiGroups": ["apiextensions.k8s.io"], "resources": ["customresourcedefinitions"], "verbs": READ_VERBS},
    {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": READ_VERBS},
    {"apiGroups": ["multicluster.x-k8s.io"], "resources": ["serviceexports", "serviceimports"], "verbs": READ_VERBS},
    {"apiGroups": ["apps"], "resources": ["replicasets"], "verbs": READ_VERBS},
]


def cross_network_gateway(*, namespace: str, gateway_selector: Mapping[str, str]) -> dict[str, Any]:
    """The `Gateway` that opens the east-west gateway to the other networks: mTLS from their sidecars
    passes through (AUTO_PASSTHROUGH, routed by the SNI istiod gives each service) to any `*.local` service."""
    return {
        "apiVersion": NETWORKING_API_VERSION,
        "kind": "Gateway",
        "metadata": {"name": CROSS_NETWORK_GATEWAY_NAME, "namespace": namespace},
        "spec": {
            "selector": dict(gateway_selector),
            "servers": [
                {
                    "port": {"number": CROSS_NETWORK_PORT, "name": "tls", "protocol": "TLS"},
                    "tls": {"mode": "AUTO_PASSTHROUGH"},
                    "hosts": ["*.local"],
                }
            ],
        },
    }


def reader_kubeconfig(*, cluster_name: str, server: str, certificate_authority_data: str, token: str) -> dict[str, Any]:
    """A kubeconfig for the read-only ServiceAccount, as `istioctl create-remote-secret` writes it:
    the cluster and user both named after the cluster, the CA as base64 data, a bearer token."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": cluster_name,
                "cluster": {"server": server, "certificate-authority-data": certificate_authority_data},
            }
        ],
        "users": [{"name": cluster_name, "user": {"token": token}}],
        "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": cluster_name}}],
        "current-context": cluster_name,
        "preferences": {},
    }


def remote_secret_metadata(*, cluster_name: str, namespace: str) -> dict[str, Any]:
    """The metadata of the remote secret through which istiod reads the cluster `cluster_name`;
    its data key is the cluster name, its value that cluster's reader kubeconfig."""
    return {
        "name": f"{REMOTE_SECRET_PREFIX}{cluster_name}",
        "namespace": namespace,
        "labels": {MULTI_CLUSTER_SECRET_LABEL: "true"},
        "annotations": {REMOTE_CLUSTER_ANNOTATION: cluster_name},
    }
