"""`IstioMesh`: the Istio control plane (sidecar or ambient), the ingress gateway and the
mesh-wide mTLS policy."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from mesh.attachment import Workload, pod_security_labels
from mesh.charts import ChartSource, install_chart
from mesh.component import MeshArgs, ServiceMesh
from mesh.custom_resource import custom_resource
from mesh.istio.attachment import IstioAttachment, enrolment_labels
from mesh.istio.manifests import (
    EAST_WEST_GATEWAY_NAME,
    NETWORK_LABEL,
    NOT_IN_AMBIENT_POD_LABELS,
    NOT_INJECTED_POD_LABELS,
    cross_network_gateway,
    gateway_access_hint,
    gateway_selector,
    mesh_wide_peer_authentication,
    release_selector,
)
from mesh.istio.multicluster import IDENTITY_OUTPUT, READER_OUTPUT, remote_reader_kubeconfig
from mesh.istio.settings import RevisionSettings
from mesh.istio.telemetry import tracing_extension_providers
from mesh.istio.trust import IstioTrust, IstioTrustArgs
from mesh.istio.values import (
    BASE_CHART,
    CNI_CHART,
    CONTROL_PLANE_CHART,
    GATEWAY_CHART,
    ZTUNNEL_CHART,
    base_values,
    cni_values,
    east_west_gateway_values,
    gateway_values,
    istiod_values,
    ztunnel_values,
)


class IstioMesh(ServiceMesh):
    """Owns Istio's namespaces, its `base` chart, one `istiod` chart per control-plane revision
    (or one without a revision), the `gateway` chart and the mesh-wide `PeerAuthentication`,
    installed in the order Istio requires:

    namespace → base (CRDs) → every istiod (ready) → gateway and the PeerAuthentication.

    In ambient mode (`mesh.istio.dataplane: ambient`) it also owns the Gateway API CRDs (for waypoints),
    installed before istiod, and the `cni` and `ztunnel` charts, installed after istiod in that
    order; everything that needs the data plane waits for ztunnel too.
    """

    def __init__(self, name: str, args: MeshArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("servicemesh:mesh:IstioMesh", name, None, opts)
        mesh = args.settings
        istio = mesh.istio
        gateway = istio.gateway
        ambient = istio.dataplane == "ambient"

        multi_cluster = istio.multi_cluster
        # cni and ztunnel need hostPath volumes, host networking and NET_ADMIN in this namespace.
        # In a mesh across networks, istiod takes its cluster's network from this namespace's label.
        system_namespace = self._namespace(
            f"{name}-system-namespace",
            istio.namespace,
            labels={
                **(pod_security_labels(enforce="privileged") if ambient else {}),
                **({NETWORK_LABEL: multi_cluster.network} if multi_cluster else {}),
            }
            or None,
        )
        gateway_namespace = (
            system_namespace
            if gateway.namespace == istio.namespace
            else self._namespace(f"{name}-gateway-namespace", gateway.namespace)
        )

        def install(resource_name: str, *, version: str, **chart: Any) -> pulumi.Resource:
            return install_chart(
                resource_name,
                source=ChartSource(repository=istio.chart_repository, version=version),
                helm=args.helm,
                **chart,
            )

        # istiod writes its CA into the webhook configurations of base and of every istiod.
        base = install(
            f"{name}-base",
            version=istio.version,
            chart=BASE_CHART,
            release_name="istio-base",
            namespace=istio.namespace,
            values=base_values(mesh),
            keep_crds=mesh.protect_crds,
            webhook_ca_bundles_patched_at_run_time=True,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[system_namespace]),
        )

        # Waypoints are Gateway API Gateways; istiod watches their CRDs only if they exist when it starts.
        gateway_api: list[pulumi.Resource] = []
        if ambient:
            gateway_api.append(
                k8s.yaml.v2.ConfigFile(
                    f"{name}-gateway-api-crds",
                    file=istio.ambient.gateway_api_manifest,
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[base]),
                )
            )

        # With a plug-in CA, istiod must find `cacerts` when it first starts, or it makes its own root.
        trust = (
            IstioTrust(
                f"{name}-trust",
                IstioTrustArgs(
                    trust=istio.trust,
                    namespace=(istio.namespace, system_namespace),
                    protect=mesh.protect_crds,
                ),
                pulumi.ResourceOptions(parent=self),
            )
            if istio.trust.customised
            else None
        )
        cacerts = [trust.cacerts] if trust and trust.cacerts else []

        def install_istiod(revision: RevisionSettings | None) -> pulumi.Resource:
            suffix = f"-{revision.name}" if revision else ""
            return install(
                f"{name}-istiod{suffix}",
                version=revision.version if revision else istio.version,
                chart=CONTROL_PLANE_CHART,
                release_name=f"istiod{suffix}",
                namespace=istio.namespace,
                values=istiod_values(
                    mesh,
                    revision=revision,
                    extension_providers=tracing_extension_providers(args.telemetry),
                    additional_root_pems=trust.additional_root_pems if trust else (),
                ),
                webhook_ca_bundles_patched_at_run_time=True,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[base, *gateway_api, *cacerts]),
            )

        revisions: Sequence[RevisionSettings | None] = istio.revisions or [None]
        istiods = {revision.name if revision else None: install_istiod(revision) for revision in revisions}
        control_plane: list[pulumi.Resource] = list(istiods.values())
        if ambient:
            cni = install(
                f"{name}-cni",
                version=istio.version,
                chart=CNI_CHART,
                release_name="istio-cni",
                namespace=istio.namespace,
                values=cni_values(mesh),
                opts=pulumi.ResourceOptions(parent=self, depends_on=control_plane),
            )
            ztunnel = install(
                f"{name}-ztunnel",
                version=istio.version,
                chart=ZTUNNEL_CHART,
                release_name="ztunnel",
                namespace=istio.namespace,
                values=ztunnel_values(mesh),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[cni]),
            )
            control_plane += [cni, ztunnel]
        gateway_revision = istio.resolve_revision(istio.gateway_revision) if istio.gateway_revision else None
        gateway_injector = istiods[gateway_revision.name if gateway_revision else None]

        # Gateway pods are created with `image: auto` and only get a real image from the
        # injector, so the gateway waits for its istiod to be ready, not merely created.
        self.gateway = install(
            f"{name}-gateway",
            version=istio.version,
            chart=GATEWAY_CHART,
            release_name=gateway.name,
            namespace=gateway.namespace,
            values=gateway_values(mesh),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[gateway_namespace, gateway_injector]),
        )
        # Needs the CRD from base, and istiod serving the validating webhook (failurePolicy Fail).
        self.peer_authentication = custom_resource(
            f"{name}-mesh-mtls",
            mesh_wide_peer_authentication(root_namespace=istio.namespace, mode=mesh.mtls_mode),
            pulumi.ResourceOptions(parent=self, depends_on=[base, *istiods.values()]),
        )

        if multi_cluster:
            install(
                f"{name}-east-west-gateway",
                version=istio.version,
                chart=GATEWAY_CHART,
                release_name=EAST_WEST_GATEWAY_NAME,
                namespace=istio.namespace,
                values=east_west_gateway_values(mesh, multi_cluster),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[system_namespace, gateway_injector]),
            )
            # Needs the CRD from base, and istiod serving the validating webhook, as the PeerAuthentication.
            custom_resource(
                f"{name}-cross-network-gateway",
                cross_network_gateway(
                    namespace=istio.namespace,
                    gateway_selector=release_selector(EAST_WEST_GATEWAY_NAME),
                ),
                pulumi.ResourceOptions(parent=self, depends_on=[base, *istiods.values()]),
            )
            remote_reader = remote_reader_kubeconfig(
                name,
                namespace=istio.namespace,
                multi_cluster=multi_cluster,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[system_namespace]),
            )

        gateway_workload = Workload(
            name=gateway.name,
            namespace=gateway.namespace,
            service_account=gateway.name,
            service=gateway.name,
            selector=gateway_selector(gateway),
            port=80,
            port_name="http2",
            protocol="http",
        )
        self.attachment = IstioAttachment(
            implementation=mesh.implementation,
            control_plane=control_plane,
            root_namespace=istio.namespace,
            trust_domain=mesh.trust_domain,
            injection_labels_by_namespace={
                namespace: enrolment_labels(ambient=ambient, revision=istio.namespace_revision(namespace))
                for namespace in args.enrolled_namespaces
            },
            version=istio.version,
            access_logging=mesh.access_logging,
            addon_pod_labels=NOT_IN_AMBIENT_POD_LABELS if ambient else NOT_INJECTED_POD_LABELS,
            ingress_gateway=gateway_workload,
        )
        self.version = pulumi.Output.from_input(istio.version)
        self.namespace = system_namespace.metadata.name
        self.gateway_namespace = gateway_namespace.metadata.name
        self.gateway_service = pulumi.Output.from_input(gateway.name)
        self.gateway_access = pulumi.Output.from_input(gateway_access_hint(gateway))
        self.revisions = pulumi.Output.from_input(
            {
                revision.name: {"version": revision.version, "tags": istio.tags_of(revision)}
                for revision in istio.revisions
            }
        )
        self.exports = {
            "istioVersion": self.version,
            "istioNamespace": self.namespace,
            "istioRevisions": self.revisions,
            "ingressGateway": {
                "namespace": self.gateway_namespace,
                "service": self.gateway_service,
                "access": self.gateway_access,
            },
        }
        if trust and trust.expiry:
            self.certificate_expiry = trust.expiry
            self.exports["istioCertificateExpiry"] = trust.expiry
        if multi_cluster:
            self.exports |= {
                IDENTITY_OUTPUT: {
                    "meshId": multi_cluster.mesh_id,
                    "clusterName": multi_cluster.cluster_name,
                    "network": multi_cluster.network,
                    "namespace": self.namespace,
                    "eastWestGateway": EAST_WEST_GATEWAY_NAME,
                },
                READER_OUTPUT: remote_reader,
            }
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
