"""`Jaeger`: the tracing back-end (Jaeger v2) the mesh's proxies send spans to."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from observability.addon import AddonPlacement, install_addon_chart
from observability.endpoints import JAEGER_QUERY_HTTP_PORT, JAEGER_SERVICE, AddonEndpoints
from observability.values import jaeger_values
from settings.models import ObservabilitySettings


@dataclass(frozen=True, kw_only=True)
class JaegerArgs:
    observability: ObservabilitySettings
    placement: AddonPlacement


class Jaeger(pulumi.ComponentResource):
    """Owns the `jaeger` chart and, with badger storage, the volume claim for its data (the chart
    mounts a claim but does not create one)."""

    def __init__(self, name: str, args: JaegerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("servicemesh:observability:Jaeger", name, None, opts)
        settings = args.observability.jaeger
        claims: list[pulumi.Resource] = []
        claim_name = None
        if settings.storage == "badger" and settings.persistence is not None:
            claim_name = f"{JAEGER_SERVICE}-data"
            spec: dict = {
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": settings.persistence.size}},
            }
            if settings.persistence.storage_class:
                spec["storageClassName"] = settings.persistence.storage_class
            claims.append(
                k8s.core.v1.PersistentVolumeClaim(
                    f"{name}-data",
                    metadata={"name": claim_name, "namespace": args.placement.namespace},
                    spec=spec,
                    opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.placement.after)),
                )
            )
        self.chart = install_addon_chart(
            self,
            f"{name}-chart",
            placement=args.placement,
            addon=settings,
            chart="jaeger",
            release_name=JAEGER_SERVICE,
            values=jaeger_values(settings, data_claim=claim_name, pod_labels=args.placement.pod_labels),
            after=claims,
        )
        self.access = AddonEndpoints(namespace=args.placement.namespace).port_forward(
            JAEGER_SERVICE, JAEGER_QUERY_HTTP_PORT
        )
        self.register_outputs({"access": self.access})
