"""`LinkerdMesh`: Linkerd's CRDs, control plane (with generated identity certificates) and viz."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from mesh.charts import ChartSource, install_chart
from mesh.component import MeshArgs, ServiceMesh
from mesh.linkerd.attachment import LINKERD_POD_SECURITY_LABELS, LinkerdAttachment
from mesh.linkerd.certificates import LinkerdIdentity, LinkerdIdentityArgs
from mesh.linkerd.manifests import INJECT_ANNOTATION
from mesh.linkerd.values import (
    CONTROL_PLANE_CHART,
    CONTROLLER_CONTAINERS,
    VIZ_COMPONENTS,
    control_plane_values,
    viz_values,
)

# What Linkerd's CLI puts on its namespace (its chart does not create one under Helm).
CONTROL_PLANE_NAMESPACE_LABELS = {
    "linkerd.io/is-control-plane": "true",
    "config.linkerd.io/admission-webhooks": "disabled",
}
VIZ_NAMESPACE_LABELS = {"linkerd.io/extension": "viz"}
# The identity controller reads the issuer from this Secret with the `kubernetes.io/tls` scheme.
ISSUER_SECRET = "linkerd-identity-issuer"
# Pods of the control plane: destination, identity and proxy-injector, each with a proxy.
CONTROLLER_PODS = 3


class LinkerdMesh(ServiceMesh):
    """Owns Linkerd's two namespaces, the trust anchor and issuer (`LinkerdIdentity`), the issuer's
    Secret, and the `linkerd-crds`, `linkerd-control-plane` and `linkerd-viz` charts, in Linkerd's
    order:

    namespaces and certificates → CRDs and the issuer Secret → control plane (ready) → viz.

    mTLS is on for every meshed pod; `mesh.mtlsMode: STRICT` makes `all-authenticated` the
    mesh-wide default inbound policy, so a meshed pod refuses clients without a mesh identity.
    """

    def __init__(self, name: str, args: MeshArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("servicemesh:mesh:LinkerdMesh", name, None, opts)
        mesh = args.settings
        linkerd = mesh.linkerd

        namespace = self._namespace(
            f"{name}-namespace",
            linkerd.namespace,
            labels={
                **LINKERD_POD_SECURITY_LABELS,
                **CONTROL_PLANE_NAMESPACE_LABELS,
                "linkerd.io/control-plane-ns": linkerd.namespace,
            },
            annotations={INJECT_ANNOTATION: "disabled"},
        )
        viz_namespace = self._namespace(
            f"{name}-viz-namespace",
            linkerd.viz_namespace,
            labels={**LINKERD_POD_SECURITY_LABELS, **VIZ_NAMESPACE_LABELS},
        )
        identity = LinkerdIdentity(
            f"{name}-identity",
            LinkerdIdentityArgs(certificates=linkerd.certificates),
            pulumi.ResourceOptions(parent=self),
        )

        issuer_secret = k8s.core.v1.Secret(
            f"{name}-issuer-secret",
            metadata={"name": ISSUER_SECRET, "namespace": linkerd.namespace},
            type="kubernetes.io/tls",
            string_data={
                "tls.crt": identity.issuer_cert_pem,
                "tls.key": identity.issuer_key_pem,
                "ca.crt": identity.trust_anchor_pem,
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[namespace]),
        )

        def install(resource_name: str, **chart: Any) -> pulumi.Resource:
            return install_chart(
                resource_name,
                source=ChartSource(repository=linkerd.chart_repository, version=linkerd.version),
                helm=args.helm,
                **chart,
            )

        crds = install(
            f"{name}-crds",
            chart="linkerd-crds",
            release_name="linkerd-crds",
            namespace=linkerd.namespace,
            values={},
            keep_crds=mesh.protect_crds,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[namespace]),
        )
        control_plane = install(
            f"{name}-control-plane",
            chart=CONTROL_PLANE_CHART,
            release_name="linkerd-control-plane",
            namespace=linkerd.namespace,
            values=control_plane_values(mesh, trust_anchor_pem=identity.trust_anchor_pem),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[namespace, crds, issuer_secret]),
        )
        # viz's own pods are injected, so it waits for a ready proxy injector.
        install(
            f"{name}-viz",
            chart="linkerd-viz",
            release_name="linkerd-viz",
            namespace=linkerd.viz_namespace,
            values=viz_values(mesh, telemetry=args.telemetry),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[viz_namespace, control_plane]),
        )

        proxy = linkerd.proxy.resources.requested()
        controllers = linkerd.controllers
        self.control_plane_requests = (
            controllers.resources.requested() * CONTROLLER_CONTAINERS + proxy * CONTROLLER_PODS
        ) * controllers.replicas + (linkerd.viz.resources.requested() + proxy) * len(VIZ_COMPONENTS)
        self.attachment = LinkerdAttachment(
            implementation="linkerd",
            control_plane=[crds, control_plane],
            root_namespace=linkerd.namespace,
            trust_domain=mesh.trust_domain,
            proxy_requests=proxy,
            access_logging=mesh.access_logging,
        )
        self.exports = {
            "linkerdVersion": pulumi.Output.from_input(linkerd.version),
            "linkerdNamespace": namespace.metadata.name,
            "linkerdTrustAnchor": identity.trust_anchor_pem,
            "linkerdViz": {
                "command": f"kubectl -n {linkerd.viz_namespace} port-forward svc/web 8084:8084",
                "url": "http://localhost:8084/",
            },
        }
        self.register_outputs({"version": linkerd.version, "namespace": self.exports["linkerdNamespace"]})
