"""The Istio service mesh: control plane, ingress gateway, mTLS policy and namespace enrolment."""

from mesh.attachment import MeshAttachment
from mesh.injected_namespace import InjectedNamespace, InjectedNamespaceArgs
from mesh.istio_mesh import IstioMesh, IstioMeshArgs

__all__ = ["InjectedNamespace", "InjectedNamespaceArgs", "IstioMesh", "IstioMeshArgs", "MeshAttachment"]
