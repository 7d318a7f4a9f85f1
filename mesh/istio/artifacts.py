"""Where Istio's charts and images come from, and at which version: its pins, the rows it adds to
docs/upgrades.md's artifacts table, and the locations it left.

Istio left Google Cloud in December 2026 (istio.io blog, "An Update on Our Container Registry
Migration", 2026-07-23, and "An update on our move to AWS", 2026-08-21): its charts moved to
blob.istio.io and ghcr.io, its images to docker.io. `RETIRED_LOCATIONS` names what is gone, so
that config and the policy pack refuse it with the replacement.
"""

from __future__ import annotations

from settings.artifacts import Artifact, RetiredLocation

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
)

SUPPORT = f"Support: Istio {ISTIO_SUPPORT}; the canary walk below upgrades to {ISTIO_CANARY_TARGET_VERSION}."

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
