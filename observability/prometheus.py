"""`Prometheus`: the metrics store every dashboard of the mesh reads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi

from observability.addon import AddonPlacement, install_addon_chart
from observability.endpoints import PROMETHEUS_PORT, PROMETHEUS_SERVICE, AddonEndpoints
from observability.values import prometheus_values
from settings.models import ObservabilitySettings


@dataclass(frozen=True, kw_only=True)
class PrometheusArgs:
    observability: ObservabilitySettings
    placement: AddonPlacement
    scrape_configs: Sequence[Mapping[str, Any]] = ()
    """Scrape jobs the mesh needs beyond the chart's annotation-driven ones."""


class Prometheus(pulumi.ComponentResource):
    """Owns the `prometheus` chart: the server only, scraping the control plane, gateways and proxies."""

    def __init__(self, name: str, args: PrometheusArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("servicemesh:observability:Prometheus", name, None, opts)
        settings = args.observability.prometheus
        install_addon_chart(
            self,
            f"{name}-chart",
            placement=args.placement,
            addon=settings,
            chart="prometheus",
            release_name=PROMETHEUS_SERVICE,
            values=prometheus_values(
                args.observability, pod_labels=args.placement.pod_labels, scrape_configs=args.scrape_configs
            ),
        )
        self.access = AddonEndpoints(namespace=args.placement.namespace).port_forward(
            PROMETHEUS_SERVICE, PROMETHEUS_PORT
        )
        self.register_outputs({"access": self.access})
