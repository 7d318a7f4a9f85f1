"""Small pure builders of the Istio objects and labels the mesh component declares."""

from __future__ import annotations

from typing import Any

from settings import GatewaySettings

PEER_AUTHENTICATION_API_VERSION = "security.istio.io/v1"
MESH_WIDE_POLICY_NAME = "default"
SIDECAR_INJECTION_LABELS = {"istio-injection": "enabled"}


def mesh_wide_peer_authentication(*, root_namespace: str, mode: str) -> dict[str, Any]:
    """The mesh-wide `PeerAuthentication`: named `default`, in the root namespace, no selector."""
    return {
        "apiVersion": PEER_AUTHENTICATION_API_VERSION,
        "kind": "PeerAuthentication",
        "metadata": {"name": MESH_WIDE_POLICY_NAME, "namespace": root_namespace},
        "spec": {"mtls": {"mode": mode}},
    }


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
