"""Linkerd's rules over keys that depend on each other, or on the environment."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from mesh.linkerd.attachment import PROBES_SUFFIX
from mesh.linkerd.manifests import proxy_admin_scraping
from mesh.linkerd.settings import LinkerdMeshSettings
from settings.problems import NAMESPACE, ConfigProblem

if TYPE_CHECKING:
    from settings.stack import StackSettings

_KEY = f"{NAMESPACE}:mesh.linkerd"

RESERVED_PORTS = {
    4140: "linkerd-proxy's outbound listener",
    4143: "linkerd-proxy's inbound listener",
    4190: "linkerd-proxy's control (tap) listener",
    4191: "linkerd-proxy's admin listener (metrics, readiness)",
}
"""What listens inside a meshed pod, by port (the chart's `proxy.ports`)."""
WORKLOAD_NAME_SUFFIXES = (PROBES_SUFFIX,)
NAMESPACE_OBJECT_NAMES = frozenset(manifest["metadata"]["name"] for manifest in proxy_admin_scraping(namespace=""))


def problems(settings: StackSettings) -> Iterator[ConfigProblem]:
    mesh = settings.mesh
    assert isinstance(mesh, LinkerdMeshSettings)
    if mesh.mtls_mode == "DISABLE":
        yield ConfigProblem(
            f"{NAMESPACE}:mesh.mtlsMode",
            "Linkerd always uses mTLS between meshed pods; allowed: STRICT or PERMISSIVE",
            mesh.mtls_mode,
        )
    if not settings.observability.prometheus.enabled:
        yield ConfigProblem(
            f"{NAMESPACE}:observability.prometheus.enabled",
            "must be true with Linkerd: linkerd-viz runs no Prometheus of its own here and reads the stack's "
            "(its chart refuses to install without one); allowed: true",
            False,
        )
    certificates = mesh.linkerd.certificates
    if certificates.issuer_validity_hours >= certificates.trust_anchor_validity_hours:
        yield ConfigProblem(
            f"{_KEY}.certificates.issuerValidityHours",
            f"must be shorter than trustAnchorValidityHours ({certificates.trust_anchor_validity_hours}): the "
            "issuer cannot outlive the anchor that signs it",
            certificates.issuer_validity_hours,
        )
    current = certificates.trust_anchor_generation
    additional = certificates.additional_trust_anchor_generations
    if current in additional or len(set(additional)) < len(additional):
        yield ConfigProblem(
            f"{_KEY}.certificates.additionalTrustAnchorGenerations",
            f"must list each generation once, and not the current one (trustAnchorGeneration: {current}): they are "
            "the anchors trusted besides it during a rotation",
            list(additional),
        )
    controllers = mesh.linkerd.controllers
    if settings.environment == "prod" and controllers.replicas < 2:
        yield ConfigProblem(
            f"{_KEY}.controllers.replicas", "prod requires at least 2 (high availability)", controllers.replicas
        )
