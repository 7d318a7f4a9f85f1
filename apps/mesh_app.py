"""`MeshApp`: one workload in the mesh, with its identity, routing and authorization."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from apps.manifests import (
    app_authorization,
    app_deployment_spec,
    app_labels,
    app_service_spec,
    app_workload,
    authorization_resource_suffix,
    client_service_spec,
    gateway_url,
    in_mesh_url,
    pod_disruption_budget_spec,
    port_forward_command,
    traffic_client_deployment_spec,
)
from mesh.attachment import MeshAttachment
from mesh.custom_resource import custom_resource
from mesh.injected_namespace import InjectedNamespace
from settings.models import AppSettings


@dataclass(frozen=True, kw_only=True)
class MeshAppArgs:
    """`app`: the app's settings; `mesh`: the mesh it joins; `namespace`: its enrolled namespace."""

    app: AppSettings
    mesh: MeshAttachment
    namespace: InjectedNamespace


class MeshApp(pulumi.ComponentResource):
    """Owns an app's ServiceAccount (its mesh identity), Deployment, Service, optional
    PodDisruptionBudget, the mesh's authorization objects for it, the mesh's ingress objects for
    it (when it has `ingress`), and its optional traffic client.

    Everything waits for the app's enrolled namespace, which waits for a ready control plane: pods
    join the mesh, and the mesh's resources find their CRDs and validating webhooks.
    """

    def __init__(self, name: str, args: MeshAppArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("servicemesh:apps:MeshApp", name, None, opts)
        app, mesh = args.app, args.mesh
        self._child_opts = pulumi.ResourceOptions(parent=self, depends_on=[args.namespace])
        pod_annotations = mesh.meshed_pod_annotations()

        self._object(k8s.core.v1.ServiceAccount, f"{name}-service-account", app.service_account, app)
        self._object(
            k8s.apps.v1.Deployment,
            f"{name}-deployment",
            app.name,
            app,
            spec=app_deployment_spec(
                app, pod_annotations=pod_annotations, mount_token=mesh.pods_mount_service_account_token
            ),
        )
        self._object(
            k8s.core.v1.Service,
            f"{name}-service",
            app.name,
            app,
            extra_labels=mesh.service_labels(layer7=bool(app.allowed_methods)),
            spec=app_service_spec(app),
        )
        if app.pod_disruption_budget:
            self._object(
                k8s.policy.v1.PodDisruptionBudget, f"{name}-pdb", app.name, app, spec=pod_disruption_budget_spec(app)
            )
        for manifest in app_authorization(app, mesh):
            custom_resource(f"{name}-{authorization_resource_suffix(manifest, app)}", manifest, self._child_opts)
        if app.ingress is not None:
            for suffix, manifest in mesh.ingress_manifests(app=app_workload(app), ingress=app.ingress).items():
                custom_resource(f"{name}-{suffix}", manifest, self._child_opts)
        if app.traffic_client.enabled:
            self._object(k8s.core.v1.ServiceAccount, f"{name}-client-service-account", app.client_name, app)
            if mesh.callers_need_service:
                self._object(
                    k8s.core.v1.Service, f"{name}-client-service", app.client_name, app, spec=client_service_spec(app)
                )
            self._object(
                k8s.apps.v1.Deployment,
                f"{name}-client",
                app.client_name,
                app,
                spec=traffic_client_deployment_spec(
                    app, pod_annotations=pod_annotations, mount_token=mesh.pods_mount_service_account_token
                ),
            )

        self.urls = {
            "inMesh": in_mesh_url(app),
            "gateway": gateway_url(app),
            "portForward": port_forward_command(app),
        }
        self.register_outputs(self.urls)

    def _object(
        self,
        resource: type,
        resource_name: str,
        object_name: str,
        app: AppSettings,
        *,
        extra_labels: Any = None,
        **inputs: Any,
    ) -> None:
        resource(
            resource_name,
            metadata={
                "name": object_name,
                "namespace": app.namespace,
                "labels": {**app_labels(app), **(extra_labels or {})},
            },
            opts=self._child_opts,
            **inputs,
        )
