"""Entry point: read the stack's settings, build the mesh, its apps and add-ons, export how to use them."""

import pulumi

from apps import MeshApp, MeshAppArgs
from mesh.certificates import warn_when_expiring
from mesh.component import MeshArgs
from mesh.implementations import build_mesh
from mesh.injected_namespace import InjectedNamespace, InjectedNamespaceArgs
from observability import Observability, ObservabilityArgs, telemetry_backends
from settings.loader import load_settings, read_pulumi_config
from settings.secrets import keep_secret_config_secret
from target_cluster import cluster_transform

config = read_pulumi_config()
settings = load_settings(config)
keep_secret_config_secret(config, settings=settings)
pulumi.runtime.register_stack_transform(cluster_transform(api_server_only=settings.cluster.api_server_only))

backends = telemetry_backends(settings.observability)
mesh = build_mesh(
    MeshArgs(
        settings=settings.mesh,
        helm=settings.helm,
        enrolled_namespaces=settings.enrolled_namespaces,
        telemetry=backends,
        default_deny=settings.authorization.default_deny,
    )
)
warn_when_expiring(mesh.certificate_expiry, window_days=settings.mesh.certificate_warning_days)
namespaces = {
    namespace: InjectedNamespace(
        f"enrolled-{namespace}",
        InjectedNamespaceArgs(
            name=namespace,
            mesh=mesh.attachment,
            default_deny=settings.authorization.default_deny,
            layer7=namespace in settings.layer7_namespaces,
        ),
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
    ObservabilityArgs(settings=settings.observability, helm=settings.helm, mesh=mesh.attachment, backends=backends),
)

pulumi.export("environment", settings.environment)
pulumi.export("mesh", mesh.attachment.implementation)
for output, value in mesh.exports.items():
    pulumi.export(output, value)
pulumi.export("enrolledNamespaces", [namespace.name for namespace in namespaces.values()])
pulumi.export("apps", {name: app.urls for name, app in apps.items()})
pulumi.export("addons", observability.access)
pulumi.export("grafanaAdmin", observability.grafana_admin)
