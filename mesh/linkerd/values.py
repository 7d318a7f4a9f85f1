"""Helm values for linkerd-crds, linkerd-control-plane and linkerd-viz, built from `MeshSettings`.

Every key set here exists in the pinned chart's `values.yaml` (some only as documented comments,
such as `destinationResources`); a test checks them against the upstream reference. Linkerd sets
no requests by default, so every container the charts run is sized here, for a knowable footprint.
"""

from __future__ import annotations

from typing import Any

import pulumi

from mesh.attachment import TelemetryBackends
from mesh.linkerd.manifests import DEFAULT_INBOUND_POLICIES
from settings import MeshSettings
from settings.models import ResourceSettings

# The chart of the control plane (the pack recognises a Linkerd stack by it).
CONTROL_PLANE_CHART = "linkerd-control-plane"
# The control plane's containers that take a resources block of their own: destination (with
# its sp-validator and policy controller), identity and proxy-injector.
CONTROLLER_RESOURCE_KEYS = (
    "destinationResources",
    "spValidatorResources",
    "identityResources",
    "proxyInjectorResources",
)
CONTROLLER_CONTAINERS = len(CONTROLLER_RESOURCE_KEYS) + 1  # and the policy controller
VIZ_COMPONENTS = ("metricsAPI", "tap", "tapInjector", "dashboard")


def linkerd_resources(resources: ResourceSettings) -> dict[str, dict[str, str]]:
    """A resources block in Linkerd's shape: `{cpu: {request, limit}, memory: {request, limit}}`."""
    shaped: dict[str, dict[str, str]] = {}
    for name in ("cpu", "memory"):
        entry = {"request": getattr(resources.requests, name)}
        limit = getattr(resources.limits, name)
        if limit is not None:
            entry["limit"] = limit
        shaped[name] = entry
    return shaped


def control_plane_values(mesh: MeshSettings, *, trust_anchor_pem: pulumi.Input[str]) -> dict[str, Any]:
    """Values of `linkerd-control-plane`: the generated trust anchor, the issuer read from the
    `linkerd-identity-issuer` Secret (so no private key is in the values), STRICT as the default
    inbound policy, replicas and high availability, and every container's resources."""
    linkerd = mesh.linkerd
    controllers = linkerd.controllers
    controller_resources = linkerd_resources(controllers.resources)
    return {
        "identityTrustDomain": mesh.trust_domain,
        "identityTrustAnchorsPEM": trust_anchor_pem,
        "identity": {"issuer": {"scheme": "kubernetes.io/tls"}},
        "proxy": {
            "defaultInboundPolicy": DEFAULT_INBOUND_POLICIES[mesh.mtls_mode],
            "resources": linkerd_resources(linkerd.proxy.resources),
        },
        "controllerReplicas": controllers.replicas,
        "enablePodAntiAffinity": controllers.pod_disruption_budget,
        "enablePodDisruptionBudget": controllers.pod_disruption_budget,
        **dict.fromkeys(CONTROLLER_RESOURCE_KEYS, controller_resources),
        "policyController": {"resources": controller_resources},
        # The heartbeat CronJob reports the cluster to Linkerd's servers once a day.
        "disableHeartBeat": True,
    }


def viz_values(mesh: MeshSettings, *, telemetry: TelemetryBackends) -> dict[str, Any]:
    """Values of `linkerd-viz`: the dashboard, reading the stack's Prometheus and linking its Grafana
    and Jaeger; its own Prometheus is not installed. The namespace is created by the program."""
    component = {"resources": linkerd_resources(mesh.linkerd.viz.resources)}
    values: dict[str, Any] = {
        "linkerdNamespace": mesh.linkerd.namespace,
        "identityTrustDomain": mesh.trust_domain,
        "createNamespaceMetadataJob": False,
        "prometheus": {"enabled": False},
        "prometheusUrl": telemetry.prometheus_url,
        **dict.fromkeys(VIZ_COMPONENTS, component),
    }
    if telemetry.grafana_url is not None:
        values["grafana"] = {"url": telemetry.grafana_url.removeprefix("http://")}
    if telemetry.jaeger_url is not None:
        values["jaegerUrl"] = telemetry.jaeger_url.removeprefix("http://")
    return values
