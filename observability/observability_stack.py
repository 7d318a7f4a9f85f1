"""`Observability`: the add-ons a stack enables and the mesh-wide telemetry that feeds them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from mesh.attachment import MeshAttachment, TelemetryBackends
from mesh.custom_resource import custom_resource
from observability.addon import AddonPlacement
from observability.grafana import Grafana, GrafanaArgs
from observability.jaeger import Jaeger, JaegerArgs
from observability.kiali import Kiali, KialiArgs
from observability.prometheus import Prometheus, PrometheusArgs
from settings.models import HelmSettings, ObservabilitySettings


@dataclass(frozen=True, kw_only=True)
class ObservabilityArgs:
    """`settings`: the add-ons; `helm`: how charts are installed; `mesh`: the mesh they observe and
    the hooks it offers; `backends`: where the add-ons answer, as the mesh was told."""

    settings: ObservabilitySettings
    helm: HelmSettings
    mesh: MeshAttachment
    backends: TelemetryBackends


class Observability(pulumi.ComponentResource):
    """Owns the add-ons' namespace (unless it is the mesh's), Prometheus, Grafana, Kiali and Jaeger
    as switched on, and the mesh's telemetry objects (Istio's `Telemetry`: tracing and access logs).

    Everything waits for the control plane: the telemetry objects need the mesh's CRDs and
    validating webhooks, and the add-ons' namespace may be the control plane's own.
    """

    def __init__(self, name: str, args: ObservabilityArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("servicemesh:observability:Observability", name, None, opts)
        settings = args.settings
        after: list[pulumi.Resource] = list(args.mesh.control_plane)
        if settings.namespace != args.mesh.root_namespace:
            after.append(
                k8s.core.v1.Namespace(
                    f"{name}-namespace",
                    metadata={"name": settings.namespace},
                    opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.mesh.control_plane)),
                )
            )
        placement = AddonPlacement(
            namespace=settings.namespace, helm=args.helm, after=after, pod_labels=args.mesh.addon_pod_labels
        )
        child = pulumi.ResourceOptions(parent=self)

        prometheus = grafana = kiali = jaeger = None
        if settings.prometheus.enabled:
            prometheus = Prometheus(
                f"{name}-prometheus",
                PrometheusArgs(
                    observability=settings,
                    placement=placement,
                    scrape_configs=args.mesh.prometheus_scrape_configs(),
                ),
                child,
            )
        if settings.jaeger.enabled:
            jaeger = Jaeger(f"{name}-jaeger", JaegerArgs(observability=settings, placement=placement), child)
        if settings.grafana.enabled and prometheus is not None:
            grafana = Grafana(
                f"{name}-grafana",
                GrafanaArgs(
                    observability=settings,
                    placement=placement,
                    dashboards=args.mesh.grafana_dashboards(),
                ),
                child,
            )
        mesh_services = args.mesh.kiali_mesh_services()
        if settings.kiali.enabled and mesh_services is not None and prometheus is not None:
            kiali = Kiali(
                f"{name}-kiali",
                KialiArgs(
                    observability=settings,
                    placement=placement,
                    mesh_services=mesh_services,
                ),
                child,
            )

        for manifest in args.mesh.telemetry_manifests(args.backends):
            custom_resource(
                f"{name}-mesh-{manifest['kind'].lower()}",
                manifest,
                pulumi.ResourceOptions(parent=self, depends_on=[*after, *([jaeger] if jaeger else [])]),
            )

        addons: dict[str, Any] = {"prometheus": prometheus, "grafana": grafana, "kiali": kiali, "jaeger": jaeger}
        installed = {key: addon for key, addon in addons.items() if addon is not None}
        self.access = {key: addon.access for key, addon in installed.items()}
        self.grafana_admin = {"user": grafana.admin_user, "password": grafana.admin_password} if grafana else None
        self.register_outputs({"access": self.access})
