"""Entry point: read the stack's settings, build the mesh, export how to use it."""

import pulumi

from mesh import InjectedNamespace, InjectedNamespaceArgs, IstioMesh, IstioMeshArgs
from settings import load_settings, read_pulumi_config

settings = load_settings(read_pulumi_config())

mesh = IstioMesh("istio", IstioMeshArgs(settings=settings.mesh))
enrolled = [
    InjectedNamespace(
        f"enrolled-{namespace}",
        InjectedNamespaceArgs(name=namespace, injection_labels=mesh.injection_labels, control_plane=mesh.control_plane),
    )
    for namespace in settings.mesh.injected_namespaces
]

pulumi.export("environment", settings.environment)
pulumi.export("istioVersion", mesh.version)
pulumi.export("istioNamespace", mesh.namespace)
pulumi.export("enrolledNamespaces", [namespace.name for namespace in enrolled])
pulumi.export(
    "ingressGateway",
    {"namespace": mesh.gateway_namespace, "service": mesh.gateway_service, "access": mesh.gateway_access},
)
