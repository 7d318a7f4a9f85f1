"""Where Linkerd's charts come from, and at which version: its pins and its rows of docs/upgrades.md's
artifacts table."""

from __future__ import annotations

from settings.artifacts import Artifact

LINKERD_EDGE_VERSION = "2026.8.3"
LINKERD_EDGE_CHART_REPOSITORY = "https://helm.linkerd.io/edge"

ARTIFACTS = (
    Artifact(
        name="Linkerd charts `linkerd-crds`, `linkerd-control-plane`, `linkerd-viz`",
        version=LINKERD_EDGE_VERSION,
        source=LINKERD_EDGE_CHART_REPOSITORY,
        settings="`mesh.linkerd.version`, `mesh.linkerd.chartRepository`",
    ),
)
