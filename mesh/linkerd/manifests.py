"""Small pure builders of Linkerd's policy objects, annotations and identities."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

SERVER_API_VERSION = "policy.linkerd.io/v1beta3"
HTTP_ROUTE_API_VERSION = "policy.linkerd.io/v1beta3"
POLICY_API_VERSION = "policy.linkerd.io/v1alpha1"
POLICY_GROUP = "policy.linkerd.io"
INJECT_ANNOTATION = "linkerd.io/inject"
DEFAULT_INBOUND_POLICY_ANNOTATION = "config.linkerd.io/default-inbound-policy"
ACCESS_LOG_ANNOTATION = "config.linkerd.io/access-log"
# The proxy's admin server (metrics, readiness) listens on this named container port.
PROXY_ADMIN_PORT = "linkerd-admin"
PROXY_ADMIN_SERVER = "linkerd-proxy-admin"
EVERY_ADDRESS = [{"cidr": "0.0.0.0/0"}, {"cidr": "::/0"}]
# Linkerd's mesh-wide default inbound policy for each `mesh.mtlsMode`: STRICT admits only meshed
# (mTLS-authenticated) clients; PERMISSIVE admits plain-text clients too.
DEFAULT_INBOUND_POLICIES = {"STRICT": "all-authenticated", "PERMISSIVE": "all-unauthenticated"}
# `Server.proxyProtocol` for each Service `appProtocol`.
PROXY_PROTOCOLS = {"http": "HTTP/1", "http2": "HTTP/2", "grpc": "gRPC", "tcp": "opaque"}


def linkerd_identity(*, service_account: str, namespace: str, control_plane_namespace: str, trust_domain: str) -> str:
    """A workload's mTLS identity as Linkerd's proxies name it."""
    return f"{service_account}.{namespace}.serviceaccount.identity.{control_plane_namespace}.{trust_domain}"


def server(*, name: str, namespace: str, selector: Mapping[str, str], port: str, proxy_protocol: str) -> dict[str, Any]:
    """A `Server`: one port of the selected pods. Once it exists, only what an AuthorizationPolicy
    allows reaches that port (its access policy defaults to deny); probes stay authorized."""
    return {
        "apiVersion": SERVER_API_VERSION,
        "kind": "Server",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"podSelector": {"matchLabels": dict(selector)}, "port": port, "proxyProtocol": proxy_protocol},
    }


def mesh_tls_authentication(
    *, name: str, namespace: str, service_accounts: Sequence[tuple[str, str]]
) -> dict[str, Any]:
    """A `MeshTLSAuthentication` satisfied by the mTLS identities of these (namespace, service account)s."""
    return {
        "apiVersion": POLICY_API_VERSION,
        "kind": "MeshTLSAuthentication",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "identityRefs": [
                {"kind": "ServiceAccount", "name": account, "namespace": account_namespace}
                for account_namespace, account in service_accounts
            ]
        },
    }


def network_authentication(*, name: str, namespace: str) -> dict[str, Any]:
    """A `NetworkAuthentication` satisfied by any client address (meshed or not)."""
    return {
        "apiVersion": POLICY_API_VERSION,
        "kind": "NetworkAuthentication",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"networks": list(EVERY_ADDRESS)},
    }


def http_route(
    *, name: str, namespace: str, server_name: str, methods: Sequence[str] = (), exact_paths: Sequence[str] = ()
) -> dict[str, Any]:
    """A Linkerd `HTTPRoute` on a Server: the requests with one of `methods`, or a GET of one of
    `exact_paths`. Requests to the Server that no route matches are refused."""
    matches = [{"method": method} for method in methods]
    matches += [{"path": {"type": "Exact", "value": path}, "method": "GET"} for path in exact_paths]
    return {
        "apiVersion": HTTP_ROUTE_API_VERSION,
        "kind": "HTTPRoute",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "parentRefs": [{"group": POLICY_GROUP, "kind": "Server", "name": server_name}],
            "rules": [{"matches": matches}],
        },
    }


def authorization_policy(
    *,
    name: str,
    namespace: str,
    target_name: str,
    authentication_kind: str,
    authentication_name: str,
    target_kind: str = "Server",
) -> dict[str, Any]:
    """An `AuthorizationPolicy` admitting to a Server (or one of its HTTPRoutes, `target_kind`) the
    clients one authentication describes."""
    return {
        "apiVersion": POLICY_API_VERSION,
        "kind": "AuthorizationPolicy",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "targetRef": {"group": POLICY_GROUP, "kind": target_kind, "name": target_name},
            "requiredAuthenticationRefs": [
                {"group": POLICY_GROUP, "kind": authentication_kind, "name": authentication_name}
            ],
        },
    }


def proxy_admin_scraping(*, namespace: str) -> list[dict[str, Any]]:
    """Let Prometheus, outside the mesh, read every proxy's metrics on its admin port: under
    `all-authenticated` an unmeshed client would otherwise be refused. The port serves metrics
    and readiness only; Linkerd answers its shutdown endpoint on localhost alone."""
    return [
        server(
            name=PROXY_ADMIN_SERVER, namespace=namespace, selector={}, port=PROXY_ADMIN_PORT, proxy_protocol="HTTP/1"
        ),
        network_authentication(name=f"{PROXY_ADMIN_SERVER}-scrapers", namespace=namespace),
        authorization_policy(
            name=f"{PROXY_ADMIN_SERVER}-scrape",
            namespace=namespace,
            target_name=PROXY_ADMIN_SERVER,
            authentication_kind="NetworkAuthentication",
            authentication_name=f"{PROXY_ADMIN_SERVER}-scrapers",
        ),
    ]


def proxy_scrape_config(*, control_plane_namespace: str) -> dict[str, Any]:
    """The Prometheus job that scrapes every Linkerd proxy's admin port and labels its series the way
    linkerd-viz queries them (namespace, pod, and the pod's `linkerd.io/proxy-*` labels)."""
    return {
        "job_name": "linkerd-proxy",
        "kubernetes_sd_configs": [{"role": "pod"}],
        "relabel_configs": [
            {
                "source_labels": [
                    "__meta_kubernetes_pod_container_name",
                    "__meta_kubernetes_pod_container_port_name",
                    "__meta_kubernetes_pod_label_linkerd_io_control_plane_ns",
                ],
                "action": "keep",
                "regex": f"^linkerd-proxy;{PROXY_ADMIN_PORT};{control_plane_namespace}$",
            },
            {"source_labels": ["__meta_kubernetes_namespace"], "action": "replace", "target_label": "namespace"},
            {"source_labels": ["__meta_kubernetes_pod_name"], "action": "replace", "target_label": "pod"},
            {
                "source_labels": ["__meta_kubernetes_pod_label_linkerd_io_proxy_job"],
                "action": "replace",
                "target_label": "k8s_job",
            },
            {"action": "labeldrop", "regex": "__meta_kubernetes_pod_label_linkerd_io_proxy_job"},
            {"action": "labelmap", "regex": "__meta_kubernetes_pod_label_linkerd_io_proxy_(.+)"},
            {"action": "labeldrop", "regex": "__meta_kubernetes_pod_label_linkerd_io_proxy_(.+)"},
            {"action": "labelmap", "regex": "__meta_kubernetes_pod_label_linkerd_io_(.+)"},
        ],
    }
