"""Where Consul's chart comes from, and at which version: its pin and its row of docs/upgrades.md's
artifacts table."""

from __future__ import annotations

from settings.artifacts import Artifact

CONSUL_CHART_VERSION = "2.0.3"
HASHICORP_CHART_REPOSITORY = "https://helm.releases.hashicorp.com"

ARTIFACTS = (
    Artifact(
        name="Consul chart `consul`",
        version=CONSUL_CHART_VERSION,
        source=HASHICORP_CHART_REPOSITORY,
        settings="`mesh.consul.chartVersion`, `mesh.consul.chartRepository`",
    ),
)
