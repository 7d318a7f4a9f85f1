"""Entry point: read the stack's settings, build the mesh and its apps, export how to use them."""

import pulumi

from apps import MeshApp, MeshAppArgs
from mesh import InjectedNamespace, InjectedNamespaceArgs, IstioMesh, IstioMeshArgs
from settings import load_settings, read_pulumi_config

settings = load_settings(read_pulumi_config())

mesh = IstioMesh(
    "istio",
    IstioMeshArgs(settings=settings.mesh, helm=settings.helm, enrolled_namespaces=settings.enrolled_namespaces),
)
namespaces = {
    namespace: InjectedNamespace(
        f"enrolled-{namespace}",
        InjectedNamespaceArgs(name=namespace, mesh=mesh.attachment, default_deny=settings.authorization.default_deny),
    )
    for namespace in settings.enrolled_namespaces
}
apps = {
    app.name: MeshApp(
        f"app-{app.name}", MeshAppArgs(app=app, mesh=mesh.attachment, namespace=namespaces[app.namespace])
    )
    for app in settings.apps
}

pulumi.export("environment", settings.environment)
pulumi.export("istioVersion", mesh.version)
pulumi.export("istioNamespace", mesh.namespace)
pulumi.export("istioRevisions", mesh.revisions)
pulumi.export("enrolledNamespaces", [namespace.name for namespace in namespaces.values()])
pulumi.export(
    "ingressGateway",
    {"namespace": mesh.gateway_namespace, "service": mesh.gateway_service, "access": mesh.gateway_access},
)
pulumi.export("apps", {name: app.urls for name, app in apps.items()})
