"""`MeshApp`: one workload in the mesh, with its identity, routing and authorization."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from apps.manifests import (
    app_authorization_policy,
    app_deployment_spec,
    app_labels,
    app_service_spec,
    gateway_url,
    in_mesh_url,
    ingress_gateway,
    ingress_route,
    pod_disruption_budget_spec,
    port_forward_command,
    traffic_client_deployment_spec,
)
from mesh import InjectedNamespace, MeshAttachment
from mesh.custom_resource import custom_resource
from settings.models import AppSettings


@dataclass(frozen=True, kw_only=True)
class MeshAppArgs:
    """`app`: the app's settings; `mesh`: the mesh it joins; `namespace`: its enrolled namespace."""

    app: AppSettings
    mesh: MeshAttachment
    namespace: InjectedNamespace


class MeshApp(pulumi.ComponentResource):
    """Owns an app's ServiceAccount (its mesh identity), Deployment, Service, optional
    PodDisruptionBudget, AuthorizationPolicy, ingress Gateway and VirtualService, and its
    optional traffic client.

    Everything waits for the app's enrolled namespace, which waits for a ready istiod: pods are
    injected, and the Istio resources find their CRDs and validating webhook.
    """

    def __init__(self, name: str, args: MeshAppArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("servicemesh:apps:MeshApp", name, None, opts)
        app = args.app
        self._child_opts = pulumi.ResourceOptions(parent=self, depends_on=[args.namespace])

        self._object(k8s.core.v1.ServiceAccount, f"{name}-service-account", app.service_account, app)
        self._object(k8s.apps.v1.Deployment, f"{name}-deployment", app.name, app, spec=app_deployment_spec(app))
        self._object(k8s.core.v1.Service, f"{name}-service", app.name, app, spec=app_service_spec(app))
        if app.pod_disruption_budget:
            self._object(
                k8s.policy.v1.PodDisruptionBudget, f"{name}-pdb", app.name, app, spec=pod_disruption_budget_spec(app)
            )
        self._custom_resource(f"{name}-authorization", app_authorization_policy(app, args.mesh))
        if app.ingress is not None:
            self._custom_resource(f"{name}-gateway", ingress_gateway(app, args.mesh))
            self._custom_resource(f"{name}-route", ingress_route(app))
        if app.traffic_client.enabled:
            self._object(k8s.core.v1.ServiceAccount, f"{name}-client-service-account", app.client_name, app)
            self._object(
                k8s.apps.v1.Deployment,
                f"{name}-client",
                app.client_name,
                app,
                spec=traffic_client_deployment_spec(app),
            )

        sidecar = args.mesh.sidecar_requests
        self.requests = (app.resources.requested() + sidecar) * app.replicas
        if app.traffic_client.enabled:
            self.requests += app.traffic_client.resources.requested() + sidecar
        self.urls = {
            "inMesh": in_mesh_url(app),
            "gateway": gateway_url(app),
            "portForward": port_forward_command(app),
        }
        self.register_outputs(self.urls)

    def _object(self, resource: type, resource_name: str, object_name: str, app: AppSettings, **inputs: Any) -> None:
        resource(
            resource_name,
            metadata={"name": object_name, "namespace": app.namespace, "labels": app_labels(app)},
            opts=self._child_opts,
            **inputs,
        )

    def _custom_resource(self, resource_name: str, manifest: dict[str, Any]) -> None:
        custom_resource(resource_name, manifest, self._child_opts)
