"""`IstioMesh`: the Istio control plane, the ingress gateway and the mesh-wide mTLS policy."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from mesh.attachment import MeshAttachment
from mesh.charts import ChartSource, install_chart, keep_crds_on_delete, leave_webhook_ca_bundle_to_istiod
from mesh.manifests import (
    SIDECAR_INJECTION_LABELS,
    SIDECAR_POD_SECURITY_LABELS,
    gateway_access_hint,
    gateway_selector,
    mesh_wide_peer_authentication,
)
from mesh.values import base_values, gateway_values, istiod_values
from settings import MeshSettings


@dataclass(frozen=True, kw_only=True)
class IstioMeshArgs:
    """`settings`: the validated mesh settings; `extension_providers`: extra
    `meshConfig.extensionProviders` entries (tracing back-ends), none by default."""

    settings: MeshSettings
    extension_providers: Sequence[Mapping[str, Any]] = ()


class IstioMesh(pulumi.ComponentResource):
    """Owns Istio's namespaces, its `base`, `istiod` and `gateway` charts and the mesh-wide
    `PeerAuthentication`, installed in the order Istio requires:

    namespace → base (CRDs) → istiod (ready) → gateway and the PeerAuthentication.
    """

    attachment: MeshAttachment
    """What namespaces and workloads need to join this mesh."""

    def __init__(self, name: str, args: IstioMeshArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("servicemesh:mesh:IstioMesh", name, None, opts)
        mesh = args.settings
        gateway = mesh.gateway
        source = ChartSource(repository=mesh.chart_repository, version=mesh.version)

        system_namespace = self._namespace(f"{name}-system-namespace", mesh.namespace)
        gateway_namespace = (
            system_namespace
            if gateway.namespace == mesh.namespace
            else self._namespace(f"{name}-gateway-namespace", gateway.namespace)
        )

        base = install_chart(
            f"{name}-base",
            source=source,
            chart="base",
            release_name="istio-base",
            namespace=mesh.namespace,
            values=base_values(mesh),
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[system_namespace],
                protect=mesh.protect_crds,
                transforms=[leave_webhook_ca_bundle_to_istiod] + ([keep_crds_on_delete] if mesh.protect_crds else []),
            ),
        )
        istiod = install_chart(
            f"{name}-istiod",
            source=source,
            chart="istiod",
            release_name="istiod",
            namespace=mesh.namespace,
            values=istiod_values(mesh, extension_providers=args.extension_providers),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[base], transforms=[leave_webhook_ca_bundle_to_istiod]),
        )
        # Gateway pods are created with `image: auto` and only get a real image from the
        # injector, so the gateway waits for istiod to be ready, not merely created.
        self.gateway = install_chart(
            f"{name}-gateway",
            source=source,
            chart="gateway",
            release_name=gateway.name,
            namespace=gateway.namespace,
            values=gateway_values(gateway),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[gateway_namespace, istiod]),
        )
        # Needs the CRD from base, and istiod serving the validating webhook (failurePolicy Fail).
        peer_authentication = mesh_wide_peer_authentication(root_namespace=mesh.namespace, mode=mesh.mtls_mode)
        self.peer_authentication = k8s.apiextensions.CustomResource(
            f"{name}-mesh-mtls",
            api_version=peer_authentication["apiVersion"],
            kind=peer_authentication["kind"],
            metadata=peer_authentication["metadata"],
            spec=peer_authentication["spec"],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[base, istiod]),
        )

        self.attachment = MeshAttachment(
            namespace_labels={**SIDECAR_POD_SECURITY_LABELS, **SIDECAR_INJECTION_LABELS},
            control_plane=[istiod],
            trust_domain=mesh.trust_domain,
            gateway_namespace=gateway.namespace,
            gateway_service_account=gateway.name,
            gateway_selector=gateway_selector(gateway),
        )
        self.version = pulumi.Output.from_input(mesh.version)
        self.namespace = system_namespace.metadata.name
        self.gateway_namespace = gateway_namespace.metadata.name
        self.gateway_service = pulumi.Output.from_input(gateway.name)
        self.gateway_access = pulumi.Output.from_input(gateway_access_hint(gateway))
        self.register_outputs(
            {
                "version": self.version,
                "namespace": self.namespace,
                "gatewayNamespace": self.gateway_namespace,
                "gatewayService": self.gateway_service,
                "gatewayAccess": self.gateway_access,
            }
        )

    def _namespace(self, resource_name: str, namespace: str) -> k8s.core.v1.Namespace:
        return k8s.core.v1.Namespace(
            resource_name,
            metadata=k8s.meta.v1.ObjectMetaArgs(name=namespace),
            opts=pulumi.ResourceOptions(parent=self),
        )
