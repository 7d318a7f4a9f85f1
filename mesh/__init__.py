"""The service mesh: one interface (`MeshAttachment`) over Istio (sidecar or ambient), Linkerd and
Consul, the components that install each, and namespace enrolment."""

from mesh.attachment import MeshAttachment, TelemetryBackends, Workload
from mesh.component import MeshArgs, ServiceMesh
from mesh.implementations import build_mesh
from mesh.injected_namespace import InjectedNamespace, InjectedNamespaceArgs

__all__ = [
    "InjectedNamespace",
    "InjectedNamespaceArgs",
    "MeshArgs",
    "MeshAttachment",
    "ServiceMesh",
    "TelemetryBackends",
    "Workload",
    "build_mesh",
]
