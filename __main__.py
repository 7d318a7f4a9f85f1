"""Entry point: read the stack's settings, build the mesh, its apps and add-ons, export how to use them."""

import pulumi

from apps import MeshApp, MeshAppArgs
from mesh import InjectedNamespace, InjectedNamespaceArgs, IstioMesh, IstioMeshArgs
from observability import Observability, ObservabilityArgs, tracing_extension_providers
from settings import load_settings, read_pulumi_config
from settings.quantities import Requests
from target_cluster import skip_readiness_waits

settings = load_settings(read_pulumi_config())
if settings.cluster.api_server_only:
    pulumi.runtime.register_stack_transform(skip_readiness_waits)

mesh = IstioMesh(
    "istio",
    IstioMeshArgs(
        settings=settings.mesh,
        helm=settings.helm,
        enrolled_namespaces=settings.enrolled_namespaces,
        extension_providers=tracing_extension_providers(settings.observability),
    ),
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
observability = Observability(
    "observability",
    ObservabilityArgs(
        settings=settings.observability,
        helm=settings.helm,
        mesh=mesh.attachment,
        istio_version=settings.mesh.version,
        access_logging=settings.mesh.access_logging,
    ),
)

footprint = {
    "controlPlane": mesh.control_plane_requests,
    "gateway": mesh.gateway_requests,
    "addons": observability.requests,
    "apps": sum((app.requests for app in apps.values()), Requests()),
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
pulumi.export("addons", observability.access)
pulumi.export("grafanaAdmin", observability.grafana_admin)
pulumi.export(
    "footprint",
    {part: requests.describe() for part, requests in footprint.items()}
    | {"total": sum(footprint.values(), Requests()).describe()},
)
