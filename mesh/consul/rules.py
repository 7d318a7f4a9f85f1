"""Consul's rules over keys that depend on each other, or on the environment."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from mesh.consul.settings import ConsulMeshSettings
from settings.problems import NAMESPACE, ConfigProblem

if TYPE_CHECKING:
    from settings.stack import StackSettings

_KEY = f"{NAMESPACE}:mesh.consul"

RESERVED_PORTS = {
    15001: "the transparent proxy's outbound listener (Envoy)",
    19000: "Envoy's admin interface",
    20000: "Envoy's public listener, where the app's inbound traffic arrives",
    20200: "Envoy's Prometheus metrics",
    20600: "consul-dataplane's graceful startup and shutdown endpoint",
    21000: "Envoy's readiness listener",
}
"""What listens inside a connect-injected pod, by port (consul-k8s' connect-inject constants and the
chart's `connectInject.metrics`)."""


def problems(settings: StackSettings) -> Iterator[ConfigProblem]:
    mesh = settings.mesh
    assert isinstance(mesh, ConsulMeshSettings)
    consul = mesh.consul
    if "trust_domain" in mesh.model_fields_set:
        yield ConfigProblem(
            f"{NAMESPACE}:mesh.trustDomain",
            "applies to meshes whose trust domain is configurable; mesh.provider consul derives its own: remove "
            "the key",
            mesh.trust_domain,
        )
    if mesh.mtls_mode == "DISABLE":
        yield ConfigProblem(
            f"{NAMESPACE}:mesh.mtlsMode",
            "Consul always uses mTLS between connect-injected services; allowed: STRICT or PERMISSIVE",
            mesh.mtls_mode,
        )
    if settings.helm.install_mode != "release":
        yield ConfigProblem(
            f"{NAMESPACE}:helm.installMode",
            "the consul chart creates its TLS CA and gossip key in Helm hooks, which 'chart' mode never runs "
            "(the servers would wait for them forever); allowed with mesh.provider consul: release",
            settings.helm.install_mode,
        )
    for path, resources in {
        "server.resources": consul.server.resources,
        "connectInject.resources": consul.connect_inject.resources,
    }.items():
        for limit in ("cpu", "memory"):
            if getattr(resources.limits, limit) is None:
                yield ConfigProblem(
                    f"{_KEY}.{path}.limits.{limit}",
                    "is required: the consul chart otherwise keeps its own small default limit, which a larger "
                    "request would exceed",
                )
    servers = consul.server.replicas
    if servers % 2 == 0:
        yield ConfigProblem(
            f"{_KEY}.server.replicas",
            f"must be odd (1, 3 or 5): {servers} Raft peers tolerate no more failures than {servers - 1}",
            servers,
        )
    if settings.environment == "prod" and servers < 3:
        yield ConfigProblem(
            f"{_KEY}.server.replicas", "prod requires at least 3 servers: a quorum that survives one loss", servers
        )
