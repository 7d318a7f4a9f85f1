"""Istio's settings: `mesh.istio.*`."""

from __future__ import annotations

import re
from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, Field, SecretStr

from mesh.certificates import HOURS_PER_YEAR, LONGEST_CERTIFICATE_HOURS, KeyAlgorithm
from mesh.istio.artifacts import GATEWAY_API_MANIFEST, ISTIO_CHART_REPOSITORY, ISTIO_IMAGE_HUB, ISTIO_VERSION
from settings.models import (
    PROVIDER_DESCRIPTION,
    ApiServerUrl,
    ChartRepository,
    DnsLabel,
    ExactVersion,
    ImageHub,
    ManifestSource,
    MeshWideSettings,
    ResourceSettings,
    ScaledComponentSettings,
    ServiceType,
    Settings,
    StackReferenceName,
    default_resources,
)

IstioDataplane = Literal["sidecar", "ambient"]
IstioCa = Literal["selfSigned", "plugin"]

_CERTIFICATE_PEM = re.compile(r"\s*(-----BEGIN CERTIFICATE-----\s+[A-Za-z0-9+/=\s]+-----END CERTIFICATE-----\s*)+")


def _certificate_pem(value: str) -> str:
    if not _CERTIFICATE_PEM.fullmatch(value):
        raise ValueError("must be PEM certificate text (-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----)")
    return value


CertificatePem = Annotated[str, AfterValidator(_certificate_pem)]


class IstiodSettings(ScaledComponentSettings):
    resources: ResourceSettings = Field(
        default_factory=default_resources("500m", "2048Mi"),
        description="istiod container resources (upstream default: requests 500m / 2048Mi).",
    )


class GatewaySettings(ScaledComponentSettings):
    revision: DnsLabel | None = Field(
        default=None,
        description="Tag or revision whose istiod injects the gateway; defaults to `mesh.istio.injectionRevision`.",
    )
    name: DnsLabel = Field(
        default="istio-ingressgateway", description="Helm release name, and so the gateway Service and Deployment name."
    )
    namespace: DnsLabel = Field(default="istio-ingress", description="Namespace of the ingress gateway.")
    service_type: ServiceType = Field(
        default="ClusterIP",
        description="Gateway Service type. `LoadBalancer` waits for an external address, "
        "so keep it off laptop clusters.",
    )
    resources: ResourceSettings = Field(
        default_factory=default_resources("100m", "128Mi", "2000m", "1024Mi"),
        description="Gateway proxy resources (upstream default: requests 100m / 128Mi, limits 2000m / 1024Mi).",
    )


class EastWestGatewaySettings(ScaledComponentSettings):
    service_type: ServiceType = Field(
        default="LoadBalancer",
        description="East-west gateway Service type: the other clusters' sidecars must reach its port 15443, so "
        "`LoadBalancer` (or `NodePort` where the nodes are routable between networks).",
    )
    resources: ResourceSettings = Field(
        default_factory=default_resources("100m", "128Mi", "2000m", "1024Mi"),
        description="East-west gateway proxy resources (the gateway chart's default: requests 100m / 128Mi, limits "
        "2000m / 1024Mi).",
    )


class MultiClusterSettings(Settings):
    """This cluster's place in a multi-primary Istio mesh spanning clusters on different networks."""

    mesh_id: DnsLabel = Field(description="The mesh's ID, the same in every cluster of the mesh (`global.meshID`).")
    cluster_name: DnsLabel = Field(
        description="This cluster's name, unique in the mesh (`global.multiCluster.clusterName`); the other "
        "clusters' remote secret for it is `istio-remote-secret-<clusterName>`."
    )
    network: DnsLabel = Field(
        description="This cluster's network (`global.network`, and the `topology.istio.io/network` label of the "
        "Istio namespace and east-west gateway); pods of other networks are reached through its east-west gateway."
    )
    api_server: ApiServerUrl = Field(
        description="The address at which the other clusters' istiod reach this cluster's API server: the "
        "`server` of the read-only kubeconfig the stack exports (`remoteReaderKubeconfig`)."
    )
    east_west_gateway: EastWestGatewaySettings = Field(
        default_factory=EastWestGatewaySettings,
        description="The east-west gateway that lets other networks' sidecars reach this cluster's pods (port 15443).",
    )


class ProxySettings(Settings):
    resources: ResourceSettings = Field(
        default_factory=default_resources("100m", "128Mi", "2000m", "1024Mi"),
        description="Injected sidecar resources (upstream default: requests 100m / 128Mi, limits 2000m / 1024Mi).",
    )


class ZtunnelSettings(Settings):
    resources: ResourceSettings = Field(
        default_factory=default_resources("200m", "512Mi", None, "1Gi"),
        description="ztunnel resources, on every node (upstream default: requests 200m / 512Mi; the memory "
        "limit, which upstream leaves unset, is the project's, as the policy pack requires one).",
    )


class IstioCniSettings(Settings):
    resources: ResourceSettings = Field(
        default_factory=default_resources("100m", "100Mi", None, "512Mi"),
        description="istio-cni node agent resources, on every node (upstream default: requests 100m / 100Mi; "
        "the memory limit, which upstream leaves unset, is the project's, as the policy pack requires one).",
    )


class WaypointSettings(Settings):
    resources: ResourceSettings = Field(
        default_factory=default_resources("100m", "128Mi", "2000m", "1024Mi"),
        description="Resources of each waypoint proxy (upstream default: requests 100m / 128Mi, limits 2 / 1Gi).",
    )


class AmbientSettings(Settings):
    """Istio's ambient data plane: the per-node ztunnel and istio-cni agent, and waypoints."""

    gateway_api_manifest: ManifestSource = Field(
        default=GATEWAY_API_MANIFEST,
        description="Gateway API CRDs (standard channel, the release Istio is built against) that waypoints "
        "need, as an https:// URL or a local file; Istio's base chart does not carry them.",
    )
    ztunnel: ZtunnelSettings = Field(default_factory=ZtunnelSettings, description="ztunnel, the node proxy.")
    cni: IstioCniSettings = Field(default_factory=IstioCniSettings, description="The istio-cni node agent.")
    waypoint: WaypointSettings = Field(
        default_factory=WaypointSettings,
        description="The waypoint added to a namespace whose apps have L7 rules (`allowedMethods`).",
    )


class RevisionSettings(Settings):
    name: DnsLabel = Field(description="Revision name, e.g. `1-30-3`: the `istio.io/rev` value of its istiod.")
    version: ExactVersion = Field(description="Istio version of this revision's istiod chart.")


def version_key(version: str) -> tuple[int, ...]:
    """An exact X.Y.Z version as a tuple that compares like the version does."""
    return tuple(int(part) for part in version.split("."))


OLDEST_RELEASES = ("1.28.6", "1.29.2", "1.30.0")
"""The oldest release of each Istio line whose charts read every value this program writes; every
line after the last is new enough. Why these:
- from 1.24.0 the istiod chart reads its own values unprefixed (`replicaCount`, `autoscaleEnabled`,
  `autoscaleMin`, `autoscaleMax`, `resources`); older charts read them under `pilot.` only and
  ignore them without a word, leaving istiod unsized and unscaled;
- the base and istiod charts read `base.validationFailurePolicy` (validating webhooks that fail
  closed from the start, which a server-side apply would otherwise flip back to `Ignore` on every
  update) from 1.30.0, and from 1.28.6 and 1.29.2, where it was backported; 1.29.0 and 1.29.1 do not."""


def oldest_release_for(version: str) -> str | None:
    """The oldest release that reads every value this program writes, when `version` is older than it."""
    line = version_key(version)[:2]
    if line < version_key(OLDEST_RELEASES[0])[:2]:
        return OLDEST_RELEASES[0]
    oldest = next((release for release in OLDEST_RELEASES if version_key(release)[:2] == line), None)
    return oldest if oldest and version_key(version) < version_key(oldest) else None


class TrustRootSettings(Settings):
    """The plug-in root: from a trust stack, or the organisation's own, given as secret config."""

    stack: StackReferenceName | None = Field(
        default=None,
        description="The trust stack (`trust/`, e.g. `organization/servicemesh-trust/prod`) whose "
        "`rootCertificatePem`, `rootPrivateKeyPem` and `rootExpiry` outputs are read through a StackReference.",
    )
    certificate_pem: CertificatePem | None = Field(
        default=None, description="The organisation's own root certificate (PEM), instead of `stack`."
    )
    private_key_pem: SecretStr | None = Field(
        default=None,
        description="The own root's private key (PEM), set as a secret: `pulumi config set --secret --path "
        "'servicemesh:mesh.istio.trust.root.privateKeyPem' < root-key.pem`; plain text is refused.",
    )


class TrustedRootSettings(Settings):
    """A root the mesh trusts besides the one that signs: a trust stack's, or a certificate."""

    stack: StackReferenceName | None = Field(
        default=None, description="A trust stack whose `rootCertificatePem` output is the root."
    )
    certificate_pem: CertificatePem | None = Field(
        default=None,
        description="The root certificate (PEM), e.g. istiod's self-signed root from its `istio-ca-secret`.",
    )


class IntermediateSettings(Settings):
    validity_hours: int = Field(
        default=HOURS_PER_YEAR,
        ge=24,
        le=LONGEST_CERTIFICATE_HOURS,
        description=f"Lifetime of each cluster's intermediate CA, at most {LONGEST_CERTIFICATE_HOURS} "
        f"({LONGEST_CERTIFICATE_HOURS // HOURS_PER_YEAR} years).",
    )
    early_renewal_hours: int | None = Field(
        default=None,
        ge=1,
        description="Any `up` this many hours or fewer before the intermediate expires issues a new one; "
        "default a third of `validityHours`. Must be less than `validityHours`.",
    )
    key_algorithm: KeyAlgorithm = Field(
        default="RSA-2048", description="The intermediate's key (istiod's own self-signed CA uses RSA-2048)."
    )


class IstioTrustSettings(Settings):
    """Where workload identities come from: istiod's self-signed CA, or a plug-in CA (docs/trust.md)."""

    ca: IstioCa = Field(
        default="selfSigned",
        description="`selfSigned`: istiod makes its own root (`istio-ca-secret`). `plugin`: the stack issues this "
        "cluster an intermediate CA from `root` and writes it to the `cacerts` Secret istiod starts with.",
    )
    root: TrustRootSettings | None = Field(
        default=None,
        description="The plug-in root (with `ca: plugin`): `{stack: ...}` or `{certificatePem, privateKeyPem}`.",
    )
    intermediate: IntermediateSettings = Field(
        default_factory=IntermediateSettings, description="This cluster's intermediate CA (with `ca: plugin`)."
    )
    additional_roots: tuple[TrustedRootSettings, ...] = Field(
        default=(),
        description="Roots every proxy trusts besides the signing one, while moving from one root to another: "
        "each `{stack: ...}` or `{certificatePem: ...}`. Turns on Istio's multi-root trust bundle.",
    )

    @property
    def customised(self) -> bool:
        """Whether the stack makes anything for trust (a plug-in CA, or roots trusted besides istiod's)."""
        return self.ca == "plugin" or bool(self.additional_roots)


class IstioSettings(Settings):
    dataplane: IstioDataplane = Field(
        default="sidecar",
        description="Istio's data plane: `sidecar` (an Envoy per pod) or `ambient` (per-node ztunnel, waypoints "
        "for L7).",
    )
    ambient: AmbientSettings = Field(
        default_factory=AmbientSettings, description="Istio ambient mode (with `dataplane: ambient`)."
    )

    def unused_fields(self) -> frozenset[str]:
        return frozenset() if self.dataplane == "ambient" else frozenset({"ambient"})

    version: ExactVersion = Field(
        default=ISTIO_VERSION,
        description="Istio version of the base (CRDs) and gateway charts, and of istiod when no revisions are "
        "declared. Must be at least the newest revision's version.",
    )
    chart_repository: ChartRepository = Field(
        default=ISTIO_CHART_REPOSITORY,
        description="Where the charts come from: an http(s) Helm repository (Istio's is the default; "
        "`oci://ghcr.io/istio/release/charts` serves the same charts), an `oci://` registry path, or a local "
        "directory holding `base/`, `istiod/`, `gateway/` (and `cni/`, `ztunnel/` for ambient). The retired "
        "`istio-release.storage.googleapis.com` and `gcr.io/istio-release` are refused.",
    )
    image_hub: ImageHub = Field(
        default=ISTIO_IMAGE_HUB,
        description="Registry path of every Istio image the stack runs: istiod, sidecars and their init "
        "containers, the ingress gateway, waypoints, istio-cni and ztunnel (`<hub>/pilot:<version>`, ...). Point "
        "it at a pull-through cache or private mirror of `docker.io/istio`. The retired `registry.istio.io/release` "
        "and `gcr.io/istio-release` are refused.",
    )
    namespace: DnsLabel = Field(
        default="istio-system", description="Control-plane namespace; also the mesh root namespace."
    )
    revisions: tuple[RevisionSettings, ...] = Field(
        default=(),
        description="Control-plane revisions, each its own istiod, in rollout order (oldest first). Empty: one "
        "istiod without a revision, and namespaces labelled `istio-injection=enabled`.",
    )
    revision_tags: dict[DnsLabel, DnsLabel] = Field(
        default_factory=dict, description="Revision tags (aliases such as `stable`, `canary`): tag → revision name."
    )
    default_revision: DnsLabel | None = Field(
        default=None,
        description="Revision that validates Istio resources cluster-wide (the base chart's `defaultRevision`); "
        "defaults to the first revision.",
    )
    injection_revision: DnsLabel | None = Field(
        default=None,
        description="Tag (or revision) that enrolled namespaces name in their `istio.io/rev` label; required "
        "with revisions.",
    )
    namespace_revisions: dict[DnsLabel, DnsLabel] = Field(
        default_factory=dict,
        description="Per-namespace overrides of `injectionRevision`: namespace → tag or revision (to canary one "
        "namespace).",
    )
    allow_downgrade: bool = Field(
        default=False,
        description="Allow a revision listed after another to run an older version (a deliberate rollback).",
    )
    istiod: IstiodSettings = Field(default_factory=IstiodSettings, description="The istiod control plane.")
    gateway: GatewaySettings = Field(default_factory=GatewaySettings, description="The ingress gateway.")
    proxy: ProxySettings = Field(default_factory=ProxySettings, description="Injected sidecar proxies.")
    trust: IstioTrustSettings = Field(
        default_factory=IstioTrustSettings,
        description="The CA that issues workload identities, and the roots the mesh trusts (docs/trust.md).",
    )
    multi_cluster: MultiClusterSettings | None = Field(
        default=None,
        description="Join a multi-primary mesh across clusters on different networks (sidecar data plane only; "
        "needs the plug-in CA, so every cluster shares one root): see docs/multi-cluster.md. Unset: one cluster.",
    )

    @property
    def revisioned(self) -> bool:
        return bool(self.revisions)

    def resolve_revision(self, reference: str) -> RevisionSettings | None:
        """The revision a tag or revision name refers to, if declared."""
        name = self.revision_tags.get(reference, reference)
        return next((revision for revision in self.revisions if revision.name == name), None)

    def tags_of(self, revision: RevisionSettings) -> list[str]:
        return sorted(tag for tag, target in self.revision_tags.items() if target == revision.name)

    @property
    def effective_default_revision(self) -> RevisionSettings | None:
        if not self.revisions:
            return None
        return self.resolve_revision(self.default_revision) if self.default_revision else self.revisions[0]

    def namespace_revision(self, namespace: str) -> str | None:
        """The tag or revision a namespace's `istio.io/rev` label names; None without revisions."""
        return self.namespace_revisions.get(namespace, self.injection_revision)

    @property
    def gateway_revision(self) -> str | None:
        """The tag or revision the gateway's pods are injected by."""
        return self.gateway.revision or self.injection_revision


class IstioMeshSettings(MeshWideSettings):
    provider: Literal["istio"] = Field(default="istio", description=PROVIDER_DESCRIPTION)
    istio: IstioSettings = Field(default_factory=IstioSettings, description="Istio (with `provider: istio`).")

    ingress_gateway: ClassVar[bool] = True
    kiali_observes: ClassVar[bool] = True
    dashboard: ClassVar[str] = "Kiali"

    @property
    def implementation(self) -> str:
        """`istio-sidecar` or `istio-ambient`."""
        return f"istio-{self.istio.dataplane}"

    def owned_namespaces(self) -> dict[str, str]:
        return {
            "mesh.istio.namespace": self.istio.namespace,
            "mesh.istio.gateway.namespace": self.istio.gateway.namespace,
        }
