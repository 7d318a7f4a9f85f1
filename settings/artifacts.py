"""Where every artifact a stack installs comes from, and at which version: the one place pins live.

The settings take their defaults from here, docs/upgrades.md's "Where the artifacts come from" table is
generated from `ARTIFACTS`, and the tests read the pins from here rather than repeating them.

Istio left Google Cloud in December 2026 (istio.io blog, "An Update on Our Container Registry
Migration", 2026-07-23, and "An update on our move to AWS", 2026-08-21): its charts moved to
blob.istio.io and ghcr.io, its images to docker.io. `RETIRED_LOCATIONS` names what is gone, so
that config and the policy pack refuse it with the replacement.

It names the meshes, the one shared file that does (tests/test_mesh_folders.py leaves it out): their
pins sit beside the add-ons' so that every version a stack installs is read and bumped in one place.
"""

from __future__ import annotations

from dataclasses import dataclass

ISTIO_VERSION = "1.30.3"
ISTIO_CHART_REPOSITORY = "https://blob.istio.io/istio-release/charts"
ISTIO_OCI_CHART_REPOSITORY = "oci://ghcr.io/istio/release/charts"
# The only registry of Istio's images from 1.31 on; the 1.30 charts' own default (registry.istio.io) is retired.
ISTIO_IMAGE_HUB = "docker.io/istio"
# Istio supports a minor release until six weeks after the release two minors later.
ISTIO_SUPPORT = "1.30 is supported until six weeks after 1.32 is released"
# The version the canary walk of docs/upgrades.md upgrades to: published at the default chart repository.
ISTIO_CANARY_TARGET_VERSION = "1.31.0"

# The Gateway API release Istio 1.30 is built against (its go.mod); ambient waypoints are Gateway API Gateways.
GATEWAY_API_VERSION = "1.5.1"
GATEWAY_API_MANIFEST = (
    f"https://github.com/kubernetes-sigs/gateway-api/releases/download/v{GATEWAY_API_VERSION}/standard-install.yaml"
)
LINKERD_EDGE_VERSION = "2026.8.3"
LINKERD_EDGE_CHART_REPOSITORY = "https://helm.linkerd.io/edge"
CONSUL_CHART_VERSION = "2.0.3"
HASHICORP_CHART_REPOSITORY = "https://helm.releases.hashicorp.com"
PROMETHEUS_CHART_VERSION = "29.27.0"
PROMETHEUS_CHART_REPOSITORY = "https://prometheus-community.github.io/helm-charts"
GRAFANA_CHART_VERSION = "12.11.1"
GRAFANA_CHART_REPOSITORY = "https://grafana-community.github.io/helm-charts"
KIALI_CHART_VERSION = "2.29.0"
KIALI_CHART_REPOSITORY = "https://kiali.org/helm-charts"
JAEGER_CHART_VERSION = "4.11.1"
JAEGER_CHART_REPOSITORY = "https://jaegertracing.github.io/helm-charts"


@dataclass(frozen=True, kw_only=True)
class RetiredLocation:
    """A chart or image location that no longer serves, and what replaces it."""

    location: str
    kind: str
    replacement: str

    def matches(self, reference: str) -> bool:
        """Whether a repository URL, `oci://` path or image reference points into this location."""
        without_scheme = reference.split("://", 1)[-1].lower()
        return without_scheme == self.location or without_scheme.startswith(f"{self.location}/")

    def refusal(self) -> str:
        return f"{self.location} was retired in December 2026; use {self.replacement} instead"


RETIRED_LOCATIONS = (
    RetiredLocation(
        location="istio-release.storage.googleapis.com",
        kind="Helm chart repository",
        replacement=f"{ISTIO_CHART_REPOSITORY} (or {ISTIO_OCI_CHART_REPOSITORY})",
    ),
    RetiredLocation(
        location="gcr.io/istio-release",
        kind="OCI chart registry and image registry",
        replacement=f"{ISTIO_OCI_CHART_REPOSITORY} for charts, {ISTIO_IMAGE_HUB} (or a mirror of it) for images",
    ),
    RetiredLocation(
        location="registry.istio.io/release",
        kind="image registry, the default hub of every published 1.30 chart",
        replacement=f"{ISTIO_IMAGE_HUB} (or a mirror of it)",
    ),
)


def retired_location(reference: str) -> RetiredLocation | None:
    """The retired location a chart source or image reference points into, if any."""
    return next((retired for retired in RETIRED_LOCATIONS if retired.matches(reference)), None)


@dataclass(frozen=True, kw_only=True)
class Artifact:
    """One pinned artifact, as docs/upgrades.md lists it."""

    name: str
    version: str
    source: str
    settings: str


ARTIFACTS = (
    Artifact(
        name="Istio charts `base`, `istiod`, `gateway`, `cni`, `ztunnel`",
        version=ISTIO_VERSION,
        source=f"{ISTIO_CHART_REPOSITORY} (also {ISTIO_OCI_CHART_REPOSITORY})",
        settings="`mesh.istio.version`, `mesh.istio.revisions[].version`, `mesh.istio.chartRepository`",
    ),
    Artifact(
        name="Istio images (istiod, proxies, gateway, waypoints, cni, ztunnel)",
        version=ISTIO_VERSION,
        source=ISTIO_IMAGE_HUB,
        settings="`mesh.istio.imageHub`",
    ),
    Artifact(
        name="Gateway API CRDs (standard channel, ambient only)",
        version=GATEWAY_API_VERSION,
        source=GATEWAY_API_MANIFEST,
        settings="`mesh.istio.ambient.gatewayApiManifest`",
    ),
    Artifact(
        name="Linkerd charts `linkerd-crds`, `linkerd-control-plane`, `linkerd-viz`",
        version=LINKERD_EDGE_VERSION,
        source=LINKERD_EDGE_CHART_REPOSITORY,
        settings="`mesh.linkerd.version`, `mesh.linkerd.chartRepository`",
    ),
    Artifact(
        name="Consul chart `consul`",
        version=CONSUL_CHART_VERSION,
        source=HASHICORP_CHART_REPOSITORY,
        settings="`mesh.consul.chartVersion`, `mesh.consul.chartRepository`",
    ),
    *(
        Artifact(
            name=f"`{chart}` chart",
            version=version,
            source=repository,
            settings=f"`observability.{addon}.chartVersion`, `observability.{addon}.chartRepository`",
        )
        for addon, chart, version, repository in (
            ("prometheus", "prometheus", PROMETHEUS_CHART_VERSION, PROMETHEUS_CHART_REPOSITORY),
            ("grafana", "grafana", GRAFANA_CHART_VERSION, GRAFANA_CHART_REPOSITORY),
            ("kiali", "kiali-server", KIALI_CHART_VERSION, KIALI_CHART_REPOSITORY),
            ("jaeger", "jaeger", JAEGER_CHART_VERSION, JAEGER_CHART_REPOSITORY),
        )
    ),
)


def artifacts_table() -> str:
    """docs/upgrades.md's table of pinned artifacts, their sources and the keys that override them."""
    rows = [
        "| artifact | version | from | override with |",
        "|---|---|---|---|",
        *(
            f"| {artifact.name} | {artifact.version} | {artifact.source} | {artifact.settings} |"
            for artifact in ARTIFACTS
        ),
    ]
    retired = [f"- {entry.kind} `{entry.location}`: use {entry.replacement}." for entry in RETIRED_LOCATIONS]
    support = f"Support: Istio {ISTIO_SUPPORT}; the canary walk below upgrades to {ISTIO_CANARY_TARGET_VERSION}."
    return (
        "\n".join(
            [
                *rows,
                "",
                support,
                "",
                "Retired in December 2026, and refused in config and by the policy pack:",
                "",
                *retired,
            ]
        )
        + "\n"
    )
