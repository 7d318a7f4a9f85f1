"""`Observability`: the add-ons a stack enables and the mesh-wide telemetry that feeds them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from mesh import MeshAttachment
from mesh.custom_resource import custom_resource
from observability.addon import AddonPlacement
from observability.grafana import Grafana, GrafanaArgs
from observability.jaeger import Jaeger, JaegerArgs
from observability.kiali import Kiali, KialiArgs
from observability.manifests import mesh_telemetry
from observability.prometheus import Prometheus, PrometheusArgs
from settings.models import HelmSettings, ObservabilitySettings
from settings.quantities import Requests


@dataclass(frozen=True, kw_only=True)
class ObservabilityArgs:
    """`settings`: the add-ons; `helm`: how charts are installed; `mesh`: the mesh they observe;
    `istio_version`: whose dashboards Grafana provisions; `access_logging`: Envoy access logs."""

    settings: ObservabilitySettings
    helm: HelmSettings
    mesh: MeshAttachment
    istio_version: str
    access_logging: bool


class Observability(pulumi.ComponentResource):
    """Owns the add-ons' namespace (unless it is the mesh's), Prometheus, Grafana, Kiali and Jaeger
    as switched on, and the mesh-wide `Telemetry` resource (tracing and access logging).

    Everything waits for the control plane: the Telemetry needs Istio's CRDs and validating
    webhook, and the add-ons' namespace is by default the control plane's own.
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
        placement = AddonPlacement(namespace=settings.namespace, helm=args.helm, after=after)
        child = pulumi.ResourceOptions(parent=self)

        prometheus = grafana = kiali = jaeger = None
        if settings.prometheus.enabled:
            prometheus = Prometheus(
                f"{name}-prometheus", PrometheusArgs(observability=settings, placement=placement), child
            )
        if settings.jaeger.enabled:
            jaeger = Jaeger(f"{name}-jaeger", JaegerArgs(observability=settings, placement=placement), child)
        if settings.grafana.enabled and prometheus is not None:
            grafana = Grafana(
                f"{name}-grafana",
                GrafanaArgs(
                    observability=settings, placement=placement, istio_version=args.istio_version, prometheus=prometheus
                ),
                child,
            )
        if settings.kiali.enabled and prometheus is not None:
            kiali = Kiali(
                f"{name}-kiali",
                KialiArgs(
                    observability=settings,
                    placement=placement,
                    root_namespace=args.mesh.root_namespace,
                    backends=[addon for addon in (prometheus, grafana, jaeger) if addon is not None],
                ),
                child,
            )

        custom_resource(
            f"{name}-mesh-telemetry",
            mesh_telemetry(
                root_namespace=args.mesh.root_namespace, observability=settings, access_logging=args.access_logging
            ),
            pulumi.ResourceOptions(parent=self, depends_on=[*after, *([jaeger] if jaeger else [])]),
        )

        addons: dict[str, Any] = {"prometheus": prometheus, "grafana": grafana, "kiali": kiali, "jaeger": jaeger}
        installed = {key: addon for key, addon in addons.items() if addon is not None}
        self.requests = sum((addon.requests for addon in installed.values()), Requests())
        self.access = {key: addon.access for key, addon in installed.items()}
        self.grafana_admin = {"user": grafana.admin_user, "password": grafana.admin_password} if grafana else None
        self.register_outputs({"access": self.access})
