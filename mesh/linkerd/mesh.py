"""`LinkerdMesh`: Linkerd's CRDs, control plane (with generated identity and webhook certificates) and viz."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from mesh.charts import ChartSource, install_chart
from mesh.component import MeshArgs, ServiceMesh
from mesh.linkerd.attachment import LINKERD_POD_SECURITY_LABELS, LinkerdAttachment
from mesh.linkerd.certificates import (
    LinkerdIdentity,
    LinkerdIdentityArgs,
    LinkerdWebhookCertificates,
    LinkerdWebhookCertificatesArgs,
)
from mesh.linkerd.manifests import INJECT_ANNOTATION
from mesh.linkerd.values import (
    CONTROL_PLANE_CHART,
    CONTROL_PLANE_WEBHOOKS,
    CRDS_CHART,
    VIZ_CHART,
    VIZ_WEBHOOKS,
    Webhook,
    control_plane_values,
    viz_values,
)

# What Linkerd's CLI puts on its namespace (its chart does not create one under Helm). The
# admission-webhooks label keeps the control plane's own pods and policies out of its webhooks,
# which fail closed: the injector never waits for itself (Linkerd's HA guidance).
CONTROL_PLANE_NAMESPACE_LABELS = {
    "linkerd.io/is-control-plane": "true",
    "config.linkerd.io/admission-webhooks": "disabled",
}
VIZ_NAMESPACE_LABELS = {"linkerd.io/extension": "viz"}
# The identity controller reads the issuer from this Secret with the `kubernetes.io/tls` scheme.
ISSUER_SECRET = "linkerd-identity-issuer"


class LinkerdMesh(ServiceMesh):
    """Owns Linkerd's two namespaces, the trust anchor and issuer (`LinkerdIdentity`), the webhooks'
    CA and serving certificates (`LinkerdWebhookCertificates`), their Secrets, and the
    `linkerd-crds`, `linkerd-control-plane` and `linkerd-viz` charts, in Linkerd's order:

    namespaces and certificates → CRDs and the Secrets → control plane (ready) → viz.

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
        # `mesh.protectCrds` (which prod requires) protects what a destroy or a replacement must not
        # take from a running mesh: its CRDs and, here, the trust every identity chains to.
        identity = LinkerdIdentity(
            f"{name}-identity",
            LinkerdIdentityArgs(certificates=linkerd.certificates, protect=mesh.protect_crds),
            pulumi.ResourceOptions(parent=self),
        )
        # Each webhook with the namespace its chart installs it in (its name and resource).
        webhook_namespaces = {
            **dict.fromkeys(CONTROL_PLANE_WEBHOOKS, (linkerd.namespace, namespace)),
            **dict.fromkeys(VIZ_WEBHOOKS, (linkerd.viz_namespace, viz_namespace)),
        }
        webhooks = LinkerdWebhookCertificates(
            f"{name}-webhooks",
            LinkerdWebhookCertificatesArgs(
                hosts={webhook.service: webhook.host(where) for webhook, (where, _) in webhook_namespaces.items()},
                validity_hours=linkerd.certificates.webhook_validity_hours,
            ),
            pulumi.ResourceOptions(parent=self),
        )

        issuer_secret = self._tls_secret(
            f"{name}-issuer-secret",
            name=ISSUER_SECRET,
            namespace=(linkerd.namespace, namespace),
            data={
                "tls.crt": identity.issuer_cert_pem,
                "tls.key": identity.issuer_key_pem,
                "ca.crt": identity.trust_anchor_pem,
            },
        )
        # The charts mount these Secrets (externalSecret) instead of generating certificates.
        webhook_secrets: dict[Webhook, k8s.core.v1.Secret] = {
            webhook: self._tls_secret(
                f"{name}-{webhook.secret}",
                name=webhook.secret,
                namespace=webhook_namespace,
                data={
                    "tls.crt": webhooks.serving[webhook.service].cert_pem,
                    "tls.key": webhooks.serving[webhook.service].key_pem,
                },
            )
            for webhook, webhook_namespace in webhook_namespaces.items()
        }

        def install(resource_name: str, **chart: Any) -> pulumi.Resource:
            return install_chart(
                resource_name,
                source=ChartSource(repository=linkerd.chart_repository, version=linkerd.version),
                helm=args.helm,
                **chart,
            )

        crds = install(
            f"{name}-crds",
            chart=CRDS_CHART,
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
            values=control_plane_values(
                mesh, trust_anchor_pem=identity.trust_anchors_pem, webhook_ca_pem=webhooks.ca_pem
            ),
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[
                    namespace,
                    crds,
                    issuer_secret,
                    *(webhook_secrets[webhook] for webhook in CONTROL_PLANE_WEBHOOKS),
                ],
            ),
        )
        # viz's own pods are injected, so it waits for a ready proxy injector.
        install(
            f"{name}-viz",
            chart=VIZ_CHART,
            release_name="linkerd-viz",
            namespace=linkerd.viz_namespace,
            values=viz_values(mesh, telemetry=args.telemetry, webhook_ca_pem=webhooks.ca_pem),
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[viz_namespace, control_plane, *(webhook_secrets[webhook] for webhook in VIZ_WEBHOOKS)],
            ),
        )

        self.attachment = LinkerdAttachment(
            implementation="linkerd",
            control_plane=[crds, control_plane],
            root_namespace=linkerd.namespace,
            trust_domain=mesh.trust_domain,
            access_logging=mesh.access_logging,
        )
        self.certificate_expiry = {
            **identity.expiry,
            "webhookCa": webhooks.ca_expiry,
            **{f"webhook {service}": serving.expiry for service, serving in webhooks.serving.items()},
        }
        self.exports = {
            "linkerdVersion": pulumi.Output.from_input(linkerd.version),
            "linkerdNamespace": namespace.metadata.name,
            "linkerdTrustAnchor": identity.trust_anchors_pem,
            "linkerdCertificateExpiry": {
                **identity.expiry,
                "webhookCa": webhooks.ca_expiry,
                "webhooks": {service: serving.expiry for service, serving in webhooks.serving.items()},
            },
            "linkerdViz": {
                "command": f"kubectl -n {linkerd.viz_namespace} port-forward svc/web 8084:8084",
                "url": "http://localhost:8084/",
            },
        }
        self.register_outputs({"version": linkerd.version, "namespace": self.exports["linkerdNamespace"]})

    def _tls_secret(
        self,
        resource_name: str,
        *,
        name: str,
        namespace: tuple[str, k8s.core.v1.Namespace],
        data: dict[str, pulumi.Input[str]],
    ) -> k8s.core.v1.Secret:
        """A `kubernetes.io/tls` Secret in a namespace (its name and resource), once that exists."""
        namespace_name, namespace_resource = namespace
        return k8s.core.v1.Secret(
            resource_name,
            metadata={"name": name, "namespace": namespace_name},
            type="kubernetes.io/tls",
            string_data=data,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[namespace_resource]),
        )
