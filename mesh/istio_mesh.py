"""`IstioMesh`: the Istio control plane, the ingress gateway and the mesh-wide mTLS policy."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from mesh.attachment import MeshAttachment
from mesh.charts import ChartSource, install_chart
from mesh.custom_resource import custom_resource
from mesh.manifests import (
    SIDECAR_POD_SECURITY_LABELS,
    gateway_access_hint,
    gateway_selector,
    injection_labels,
    mesh_wide_peer_authentication,
)
from mesh.values import base_values, gateway_values, istiod_values
from settings import MeshSettings
from settings.models import HelmSettings, RevisionSettings


@dataclass(frozen=True, kw_only=True)
class IstioMeshArgs:
    """`settings`: the validated mesh settings; `helm`: how charts are installed;
    `enrolled_namespaces`: the namespaces that will join the mesh (for their injection labels);
    `extension_providers`: extra `meshConfig.extensionProviders` entries, none by default."""

    settings: MeshSettings
    helm: HelmSettings
    enrolled_namespaces: Sequence[str] = ()
    extension_providers: Sequence[Mapping[str, Any]] = ()


class IstioMesh(pulumi.ComponentResource):
    """Owns Istio's namespaces, its `base` chart, one `istiod` chart per control-plane revision
    (or one without a revision), the `gateway` chart and the mesh-wide `PeerAuthentication`,
    installed in the order Istio requires:

    namespace → base (CRDs) → every istiod (ready) → gateway and the PeerAuthentication.
    """

    attachment: MeshAttachment
    """What namespaces and workloads need to join this mesh."""

    def __init__(self, name: str, args: IstioMeshArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("servicemesh:mesh:IstioMesh", name, None, opts)
        mesh = args.settings
        gateway = mesh.gateway

        system_namespace = self._namespace(f"{name}-system-namespace", mesh.namespace)
        gateway_namespace = (
            system_namespace
            if gateway.namespace == mesh.namespace
            else self._namespace(f"{name}-gateway-namespace", gateway.namespace)
        )

        def install(resource_name: str, *, version: str, **chart: Any) -> pulumi.Resource:
            return install_chart(
                resource_name,
                source=ChartSource(repository=mesh.chart_repository, version=version),
                helm=args.helm,
                **chart,
            )

        base = install(
            f"{name}-base",
            version=mesh.version,
            chart="base",
            release_name="istio-base",
            namespace=mesh.namespace,
            values=base_values(mesh),
            keep_crds=mesh.protect_crds,
            webhooks_patched_by_istiod=True,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[system_namespace]),
        )

        def install_istiod(revision: RevisionSettings | None) -> pulumi.Resource:
            suffix = f"-{revision.name}" if revision else ""
            return install(
                f"{name}-istiod{suffix}",
                version=revision.version if revision else mesh.version,
                chart="istiod",
                release_name=f"istiod{suffix}",
                namespace=mesh.namespace,
                values=istiod_values(mesh, revision=revision, extension_providers=args.extension_providers),
                webhooks_patched_by_istiod=True,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[base]),
            )

        revisions: Sequence[RevisionSettings | None] = mesh.revisions or [None]
        istiods = {revision.name if revision else None: install_istiod(revision) for revision in revisions}
        gateway_revision = mesh.resolve_revision(mesh.gateway_revision) if mesh.gateway_revision else None
        gateway_injector = istiods[gateway_revision.name if gateway_revision else None]

        # Gateway pods are created with `image: auto` and only get a real image from the
        # injector, so the gateway waits for its istiod to be ready, not merely created.
        self.gateway = install(
            f"{name}-gateway",
            version=mesh.version,
            chart="gateway",
            release_name=gateway.name,
            namespace=gateway.namespace,
            values=gateway_values(mesh),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[gateway_namespace, gateway_injector]),
        )
        # Needs the CRD from base, and istiod serving the validating webhook (failurePolicy Fail).
        self.peer_authentication = custom_resource(
            f"{name}-mesh-mtls",
            mesh_wide_peer_authentication(root_namespace=mesh.namespace, mode=mesh.mtls_mode),
            pulumi.ResourceOptions(parent=self, depends_on=[base, *istiods.values()]),
        )

        self.attachment = MeshAttachment(
            pod_security_labels=SIDECAR_POD_SECURITY_LABELS,
            injection_labels_by_namespace={
                namespace: injection_labels(mesh.namespace_revision(namespace))
                for namespace in args.enrolled_namespaces
            },
            control_plane=list(istiods.values()),
            root_namespace=mesh.namespace,
            trust_domain=mesh.trust_domain,
            sidecar_requests=mesh.proxy.resources.requested(),
            gateway_namespace=gateway.namespace,
            gateway_service_account=gateway.name,
            gateway_selector=gateway_selector(gateway),
        )
        self.control_plane_requests = mesh.istiod.resources.requested() * (mesh.istiod.min_replicas * len(istiods))
        self.gateway_requests = gateway.resources.requested() * gateway.min_replicas
        self.version = pulumi.Output.from_input(mesh.version)
        self.namespace = system_namespace.metadata.name
        self.gateway_namespace = gateway_namespace.metadata.name
        self.gateway_service = pulumi.Output.from_input(gateway.name)
        self.gateway_access = pulumi.Output.from_input(gateway_access_hint(gateway))
        self.revisions = pulumi.Output.from_input(
            {
                revision.name: {"version": revision.version, "tags": mesh.tags_of(revision)}
                for revision in mesh.revisions
            }
        )
        self.register_outputs(
            {
                "version": self.version,
                "namespace": self.namespace,
                "gatewayNamespace": self.gateway_namespace,
                "gatewayService": self.gateway_service,
                "gatewayAccess": self.gateway_access,
                "revisions": self.revisions,
            }
        )

    def _namespace(self, resource_name: str, namespace: str) -> k8s.core.v1.Namespace:
        return k8s.core.v1.Namespace(
            resource_name,
            metadata=k8s.meta.v1.ObjectMetaArgs(name=namespace),
            opts=pulumi.ResourceOptions(parent=self),
        )
