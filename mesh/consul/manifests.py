"""Small pure builders of Consul's config entries (custom resources of consul-k8s) and annotations.

Every config entry is `consul.hashicorp.com/v1alpha1`. Consul names services, and so identities,
by the Kubernetes Service's name; with ACLs on, a pod's ServiceAccount must carry the same name.
Intentions name callers by those service names, never by namespace or ServiceAccount.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

CONSUL_API_VERSION = "consul.hashicorp.com/v1alpha1"
# A pod opts in to the mesh with this annotation on its template; the chart's `connectInject.default`
# stays false, so nothing else (add-ons, the control plane) is ever injected.
INJECT_ANNOTATION = "consul.hashicorp.com/connect-inject"
WILDCARD = "*"
# Consul accepts exactly one of each of these cluster-wide, under these names (its webhooks refuse
# any other name, and a second one).
MESH_ENTRY_NAME = "mesh"
PROXY_DEFAULTS_NAME = "global"
DEFAULT_DENY_NAME = "default-deny"
# The Service port's appProtocol → the protocol Consul's proxies speak (ServiceDefaults `protocol`).
PROTOCOLS = {"http": "http", "http2": "http2", "grpc": "grpc", "tcp": "tcp"}


def is_injected(pod_annotations: Mapping[str, Any]) -> bool:
    """Whether a pod with these annotations on its template gets Consul's sidecar, as the program
    installs Consul (`connectInject.default: false`): only when it opts in. Consul reads the
    annotation as a boolean; the program writes "true"."""
    return str(pod_annotations.get(INJECT_ANNOTATION, "")).lower() == "true"


def _config_entry(kind: str, *, name: str, namespace: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": CONSUL_API_VERSION,
        "kind": kind,
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def service_intentions(
    *, name: str, namespace: str, destination: str, sources: Sequence[str], methods: Sequence[str] = ()
) -> dict[str, Any]:
    """A `ServiceIntentions` letting only the `sources` services call `destination` and, with
    `methods`, only with those HTTP methods (an L7 permission; the destination must speak HTTP).

    Consul accepts one `ServiceIntentions` per destination, and it needs at least one source: with
    no sources it denies every caller (`*`). Either way it outranks the mesh-wide `*` → `*` entry,
    because an exact destination has precedence over the wildcard one.
    """
    if not sources:
        entries: list[dict[str, Any]] = [{"name": WILDCARD, "action": "deny"}]
    elif methods:
        permission = {"action": "allow", "http": {"methods": list(methods)}}
        entries = [{"name": source, "permissions": [permission]} for source in sources]
    else:
        entries = [{"name": source, "action": "allow"} for source in sources]
    return _config_entry(
        "ServiceIntentions",
        name=name,
        namespace=namespace,
        spec={"destination": {"name": destination}, "sources": entries},
    )


def default_deny_intentions(*, namespace: str) -> dict[str, Any]:
    """The mesh-wide `*` → `*` deny: any call between services that no intention of its own
    destination allows is refused, whatever the ACL default policy says."""
    return _config_entry(
        "ServiceIntentions",
        name=DEFAULT_DENY_NAME,
        namespace=namespace,
        spec={"destination": {"name": WILDCARD}, "sources": [{"name": WILDCARD, "action": "deny"}]},
    )


def mesh_entry(*, namespace: str, mtls_mode: str) -> dict[str, Any]:
    """The `Mesh` config entry. STRICT: no proxy may be switched to permissive mTLS, and transparent
    proxies reach only destinations in Consul's catalog (no plain-text way out of the mesh).
    PERMISSIVE (while migrating): permissive mTLS may be enabled, and outbound traffic may leave the
    mesh, to services not yet injected."""
    strict = mtls_mode == "STRICT"
    return _config_entry(
        "Mesh",
        name=MESH_ENTRY_NAME,
        namespace=namespace,
        spec={
            "allowEnablingPermissiveMutualTLS": not strict,
            "transparentProxy": {"meshDestinationsOnly": strict},
        },
    )


def proxy_defaults(*, namespace: str, mtls_mode: str, access_logging: bool) -> dict[str, Any]:
    """The `ProxyDefaults` named `global`: every sidecar's mTLS mode (`strict` refuses plain text on
    the service port; `permissive` accepts it, without intentions) and its access logs (to stdout).

    Tracing is not configured here: Consul's Envoy tracing is a Zipkin tracer with a static cluster
    in `config`, and the stack's Jaeger receives OTLP only.
    """
    return _config_entry(
        "ProxyDefaults",
        name=PROXY_DEFAULTS_NAME,
        namespace=namespace,
        spec={"mutualTLSMode": mtls_mode.lower(), "accessLogs": {"enabled": access_logging}},
    )


def service_defaults(*, namespace: str, service: str, protocol: str) -> dict[str, Any]:
    """A `ServiceDefaults` for `service` (Consul names it by `metadata.name`): the protocol its
    proxies speak, which L7 intentions (HTTP methods) require to be HTTP-based."""
    return _config_entry("ServiceDefaults", name=service, namespace=namespace, spec={"protocol": PROTOCOLS[protocol]})
