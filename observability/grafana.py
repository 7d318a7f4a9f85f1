"""`Grafana`: dashboards over Prometheus, with Istio's own dashboards provisioned."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from observability.addon import AddonPlacement, install_addon_chart
from observability.endpoints import GRAFANA_PORT, GRAFANA_SERVICE, AddonEndpoints
from observability.values import GRAFANA_ADMIN_PASSWORD_KEY, GRAFANA_ADMIN_USER_KEY, grafana_values
from settings.models import ObservabilitySettings

GRAFANA_ADMIN_SECRET = "grafana-admin"


@dataclass(frozen=True, kw_only=True)
class GrafanaArgs:
    observability: ObservabilitySettings
    placement: AddonPlacement
    istio_version: str
    prometheus: pulumi.Resource


class Grafana(pulumi.ComponentResource):
    """Owns the `grafana` chart and its admin credentials (a Secret the chart reads).

    The password is generated once and kept in the stack's state (a secret), so it is the same
    on every update and appears in plain text neither in the chart's values nor in a render.
    """

    def __init__(self, name: str, args: GrafanaArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("servicemesh:observability:Grafana", name, None, opts)
        settings = args.observability.grafana
        endpoints = AddonEndpoints(namespace=args.placement.namespace)
        # Secret explicitly: the random provider marks `result` secret only in the engine's state.
        password = pulumi.Output.secret(
            random.RandomPassword(
                f"{name}-admin-password", length=24, special=False, opts=pulumi.ResourceOptions(parent=self)
            ).result
        )
        credentials = k8s.core.v1.Secret(
            f"{name}-admin",
            metadata={"name": GRAFANA_ADMIN_SECRET, "namespace": args.placement.namespace},
            string_data={GRAFANA_ADMIN_USER_KEY: settings.admin_user, GRAFANA_ADMIN_PASSWORD_KEY: password},
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.placement.after)),
        )
        install_addon_chart(
            self,
            f"{name}-chart",
            placement=args.placement,
            repository=settings.chart_repository,
            version=settings.chart_version,
            chart="grafana",
            release_name=GRAFANA_SERVICE,
            values=grafana_values(
                settings, endpoints=endpoints, istio_version=args.istio_version, admin_secret=GRAFANA_ADMIN_SECRET
            ),
            after=[args.prometheus, credentials],
        )
        self.requests = settings.resources.requested()
        self.admin_user = settings.admin_user
        self.admin_password = password
        self.access = endpoints.port_forward(GRAFANA_SERVICE, GRAFANA_PORT)
        self.register_outputs({"access": self.access, "adminPassword": self.admin_password})
