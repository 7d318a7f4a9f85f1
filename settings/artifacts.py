"""What a pinned artifact and a retired location are, and the add-ons' pins. Names no mesh.

Each mesh states its own pins, artifacts and retired locations in `mesh/<provider>/artifacts.py`;
docs/upgrades.md's "Where the artifacts come from" table is generated from those and `ADDON_ARTIFACTS`
(`review.artifacts`), and the tests read the pins from there rather than repeating them.
"""

from __future__ import annotations

from dataclasses import dataclass

PROMETHEUS_CHART_VERSION = "29.27.0"
PROMETHEUS_CHART_REPOSITORY = "https://prometheus-community.github.io/helm-charts"
GRAFANA_CHART_VERSION = "12.11.1"
GRAFANA_CHART_REPOSITORY = "https://grafana-community.github.io/helm-charts"
KIALI_CHART_VERSION = "2.29.0"
KIALI_CHART_REPOSITORY = "https://kiali.org/helm-charts"
JAEGER_CHART_VERSION = "4.11.1"
JAEGER_CHART_REPOSITORY = "https://jaegertracing.github.io/helm-charts"


@dataclass(frozen=True, kw_only=True)
class Artifact:
    """One pinned artifact, as docs/upgrades.md lists it."""

    name: str
    version: str
    source: str
    settings: str


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


ADDON_ARTIFACTS = tuple(
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
)
