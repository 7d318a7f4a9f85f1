"""`Kiali`: the mesh console, wired to Prometheus, Grafana and Jaeger."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi

from observability.addon import AddonPlacement, generated_secret, install_addon_chart
from observability.endpoints import KIALI_PORT, KIALI_SERVICE, AddonEndpoints
from observability.values import KIALI_SIGNING_KEY_KEY, kiali_values
from settings.models import ObservabilitySettings

KIALI_SIGNING_KEY_SECRET = "kiali-signing-key"


@dataclass(frozen=True, kw_only=True)
class KialiArgs:
    observability: ObservabilitySettings
    placement: AddonPlacement
    mesh_services: Mapping[str, Any]
    """Kiali's `external_services` entries for the mesh (`MeshAttachment.kiali_mesh_services`)."""


class Kiali(pulumi.ComponentResource):
    """Owns the `kiali-server` chart and its login-token signing key.

    Left empty, the chart puts a fresh random key into its ConfigMap on every render, which would
    roll Kiali and log everyone out on every update; the key is generated once instead, kept
    secret in the stack's state, and handed to Kiali in a Secret.
    """

    def __init__(self, name: str, args: KialiArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("servicemesh:observability:Kiali", name, None, opts)
        settings = args.observability.kiali
        endpoints = AddonEndpoints(namespace=args.placement.namespace)
        # Kiali accepts signing keys of 16, 24 or 32 characters.
        signing_key = generated_secret(
            self,
            f"{name}-signing-key",
            placement=args.placement,
            secret_name=KIALI_SIGNING_KEY_SECRET,
            key=KIALI_SIGNING_KEY_KEY,
            length=32,
        )
        install_addon_chart(
            self,
            f"{name}-chart",
            placement=args.placement,
            addon=settings,
            chart="kiali-server",
            release_name=KIALI_SERVICE,
            values=kiali_values(
                settings,
                observability=args.observability,
                endpoints=endpoints,
                mesh_services=args.mesh_services,
                pod_labels=args.placement.pod_labels,
                signing_key_secret=KIALI_SIGNING_KEY_SECRET,
            ),
            after=[signing_key.secret],
        )
        self.access = endpoints.port_forward(KIALI_SERVICE, KIALI_PORT, "/kiali")
        self.register_outputs({"access": self.access})
