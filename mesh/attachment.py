"""`MeshAttachment`: what a namespace or workload needs from the mesh to join it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi

from mesh.manifests import spiffe_principal
from settings.quantities import Requests


@dataclass(frozen=True, kw_only=True)
class MeshAttachment:
    """Handed by `IstioMesh` to `InjectedNamespace` and `apps/`, so they never hard-code a label,
    a namespace or an identity of the mesh."""

    pod_security_labels: Mapping[str, str]
    """The Pod Security admission level the mesh's data plane allows."""
    injection_labels_by_namespace: Mapping[str, Mapping[str, str]]
    """Per enrolled namespace, the one label that selects its sidecar injector."""
    control_plane: Sequence[pulumi.Resource]
    """Depend on these before creating pods that need the sidecar injector."""
    root_namespace: str
    """Where mesh-wide Istio configuration lives."""
    trust_domain: str
    sidecar_requests: Requests
    """What every injected proxy requests."""
    gateway_namespace: str
    gateway_service_account: str
    gateway_selector: Mapping[str, str]
    """Pod labels of the ingress gateway, for Istio `Gateway` selectors."""

    def namespace_labels(self, namespace: str) -> dict[str, str]:
        """Labels that enrol `namespace`: its injection label and the Pod Security level."""
        return {**self.pod_security_labels, **self.injection_labels_by_namespace[namespace]}

    def principal(self, *, namespace: str, service_account: str) -> str:
        """The SPIFFE principal of a service account in this mesh."""
        return spiffe_principal(trust_domain=self.trust_domain, namespace=namespace, service_account=service_account)

    @property
    def gateway_principal(self) -> str:
        return self.principal(namespace=self.gateway_namespace, service_account=self.gateway_service_account)
