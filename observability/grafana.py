"""`Grafana`: dashboards over Prometheus, with the mesh's own dashboards provisioned."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from mesh.attachment import GrafanaDashboards
from observability.addon import AddonPlacement, generated_secret, install_addon_chart
from observability.endpoints import GRAFANA_PORT, GRAFANA_SERVICE, AddonEndpoints
from observability.values import GRAFANA_ADMIN_PASSWORD_KEY, GRAFANA_ADMIN_USER_KEY, grafana_values
from settings.models import ObservabilitySettings

GRAFANA_ADMIN_SECRET = "grafana-admin"


@dataclass(frozen=True, kw_only=True)
class GrafanaArgs:
    observability: ObservabilitySettings
    placement: AddonPlacement
    dashboards: GrafanaDashboards | None


class Grafana(pulumi.ComponentResource):
    """Owns the `grafana` chart and its admin credentials (a Secret the chart reads).

    The password is generated once and kept in the stack's state (a secret), so it is the same
    on every update and appears in plain text neither in the chart's values nor in a render.
    """

    def __init__(self, name: str, args: GrafanaArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("servicemesh:observability:Grafana", name, None, opts)
        settings = args.observability.grafana
        endpoints = AddonEndpoints(namespace=args.placement.namespace)
        credentials = generated_secret(
            self,
            f"{name}-admin",
            placement=args.placement,
            secret_name=GRAFANA_ADMIN_SECRET,
            key=GRAFANA_ADMIN_PASSWORD_KEY,
            length=24,
            other_data={GRAFANA_ADMIN_USER_KEY: settings.admin_user},
        )
        install_addon_chart(
            self,
            f"{name}-chart",
            placement=args.placement,
            addon=settings,
            chart="grafana",
            release_name=GRAFANA_SERVICE,
            values=grafana_values(
                settings,
                endpoints=endpoints,
                dashboards=args.dashboards,
                pod_labels=args.placement.pod_labels,
                admin_secret=GRAFANA_ADMIN_SECRET,
            ),
            after=[credentials.secret],
        )
        self.admin_user = settings.admin_user
        self.admin_password = credentials.value
        self.access = endpoints.port_forward(GRAFANA_SERVICE, GRAFANA_PORT)
        self.register_outputs({"access": self.access, "adminPassword": self.admin_password})
