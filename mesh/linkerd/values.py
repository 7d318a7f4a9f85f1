"""Helm values for linkerd-crds, linkerd-control-plane and linkerd-viz, built from `LinkerdMeshSettings`.

Every key set here exists in the pinned chart's `values.yaml` (some only as documented comments,
such as `destinationResources`); a test checks them against the upstream reference. Linkerd sets
no requests by default, so every container the charts run is sized here, for a knowable footprint.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import reduce
from typing import Any

import pulumi

from mesh.attachment import TelemetryBackends
from mesh.linkerd.manifests import DEFAULT_INBOUND_POLICIES
from mesh.linkerd.settings import LinkerdMeshSettings
from settings.models import ResourceSettings

# The chart of the control plane (the pack recognises a Linkerd stack by it), of its CRDs, and of
# the viz extension.
CONTROL_PLANE_CHART = "linkerd-control-plane"
CRDS_CHART = "linkerd-crds"
VIZ_CHART = "linkerd-viz"


@dataclass(frozen=True, kw_only=True)
class ControllerPod:
    """One of the control plane's pods as its chart sizes it: each container by a resources block
    of its own, and its proxy by `proxy_resources_key` if set, else by `proxy.resources`."""

    name: str
    containers: Mapping[str, tuple[str, ...]]
    """Container name → the values path of its resources block."""
    proxy_resources_key: str


# The control plane's pods, each with a proxy: destination (with its sp-validator and policy
# controller), identity and proxy-injector.
CONTROLLER_PODS = (
    ControllerPod(
        name="destination",
        containers={
            "destination": ("destinationResources",),
            "sp-validator": ("spValidatorResources",),
            "policy-controller": ("policyController", "resources"),
        },
        proxy_resources_key="destinationProxyResources",
    ),
    ControllerPod(
        name="identity", containers={"identity": ("identityResources",)}, proxy_resources_key="identityProxyResources"
    ),
    ControllerPod(
        name="proxy-injector",
        containers={"proxy-injector": ("proxyInjectorResources",)},
        proxy_resources_key="proxyInjectorProxyResources",
    ),
)
# The viz extension's components, each one pod with a proxy, sized by `<component>.resources`.
VIZ_COMPONENTS = ("metricsAPI", "tap", "tapInjector", "dashboard")
# A pod created while the proxy injector is down must be refused, not started without a proxy:
# the chart's default (Ignore) would break the promise that meshed pods speak only mTLS. The
# control plane's own namespace is excluded by its `config.linkerd.io/admission-webhooks: disabled`
# label (the chart's namespaceSelector), so the injector never waits for itself.
WEBHOOK_FAILURE_POLICY = "Fail"
# Tap injection only adds the annotations linkerd-viz's tap reads; a pod without them is still
# meshed and authorized, so a tap-injector outage must not block pod creation (its
# namespaceSelector does not honour the admission-webhooks label: with Fail, the control plane's
# own pods would wait for viz).
TAP_INJECTOR_FAILURE_POLICY = "Ignore"


@dataclass(frozen=True, kw_only=True)
class Webhook:
    """A TLS server of Linkerd's that the API server calls (an admission webhook, or tap's
    aggregated API), as its chart names it: the values key and the Service. The chart's pod mounts
    its certificate from the Secret `<service>-k8s-tls`."""

    values_key: str
    service: str

    @property
    def secret(self) -> str:
        return f"{self.service}-k8s-tls"

    def host(self, namespace: str) -> str:
        """The name the API server calls it by, which its serving certificate must carry."""
        return f"{self.service}.{namespace}.svc"


CONTROL_PLANE_WEBHOOKS = (
    Webhook(values_key="proxyInjector", service="linkerd-proxy-injector"),
    Webhook(values_key="profileValidator", service="linkerd-sp-validator"),
    Webhook(values_key="policyValidator", service="linkerd-policy-validator"),
)
VIZ_WEBHOOKS = (
    Webhook(values_key="tap", service="tap"),
    Webhook(values_key="tapInjector", service="tap-injector"),
)


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


def controller_resource_values(resources: dict[str, dict[str, str]]) -> dict[str, Any]:
    """`resources` for every container of the control plane, each at the values path that sizes it."""
    values: dict[str, Any] = {}
    for pod in CONTROLLER_PODS:
        for path in pod.containers.values():
            # No two containers share a top-level key, so each path is a key of its own.
            values.update(reduce(lambda inner, key: {key: inner}, reversed(path), resources))
    return values


def external_certificates(webhooks: Sequence[Webhook], *, ca_pem: pulumi.Input[str]) -> dict[str, dict[str, Any]]:
    """Each webhook's values: its Secret is created outside the chart and `ca_pem` signed its
    certificate. The chart then renders neither a Secret nor a CA bundle of its own: without these,
    it generates a new certificate (`genSelfSignedCert`) on every render, so every `up` would
    change the Secrets and the CA bundles and restart the pods whose checksum covers them. (The
    keys stay out of the values, which the control plane also copies into its `linkerd-config`.)"""
    return {webhook.values_key: {"externalSecret": True, "caBundle": ca_pem} for webhook in webhooks}


def control_plane_values(
    mesh: LinkerdMeshSettings, *, trust_anchor_pem: pulumi.Input[str], webhook_ca_pem: pulumi.Input[str]
) -> dict[str, Any]:
    """Values of `linkerd-control-plane`: the generated trust anchor, the issuer read from the
    `linkerd-identity-issuer` Secret and the webhooks' certificates from theirs (so no private key
    is in the values), webhooks that fail closed, STRICT as the default inbound policy, replicas
    and high availability, and every container's resources."""
    linkerd = mesh.linkerd
    controllers = linkerd.controllers
    controller_resources = linkerd_resources(controllers.resources)
    return {
        "identityTrustDomain": mesh.trust_domain,
        "identityTrustAnchorsPEM": trust_anchor_pem,
        "identity": {"issuer": {"scheme": "kubernetes.io/tls"}},
        **external_certificates(CONTROL_PLANE_WEBHOOKS, ca_pem=webhook_ca_pem),
        "webhookFailurePolicy": WEBHOOK_FAILURE_POLICY,
        "proxy": {
            "defaultInboundPolicy": DEFAULT_INBOUND_POLICIES[mesh.mtls_mode],
            "resources": linkerd_resources(linkerd.proxy.resources),
        },
        "controllerReplicas": controllers.replicas,
        "enablePodAntiAffinity": controllers.pod_disruption_budget,
        "enablePodDisruptionBudget": controllers.pod_disruption_budget,
        **controller_resource_values(controller_resources),
        # The heartbeat CronJob reports the cluster to Linkerd's servers once a day.
        "disableHeartBeat": True,
    }


def viz_values(
    mesh: LinkerdMeshSettings, *, telemetry: TelemetryBackends, webhook_ca_pem: pulumi.Input[str]
) -> dict[str, Any]:
    """Values of `linkerd-viz`: the dashboard, reading the stack's Prometheus and linking its
    Jaeger; its own Prometheus is not installed. Tap's and the tap injector's certificates come
    from their Secrets. The namespace is created by the program.

    The stack's Grafana is not linked (`grafana.url`): the dashboard's links open Linkerd's own
    dashboards (by their uids) through its `/grafana` reverse proxy, for which Linkerd's Grafana
    setup serves Grafana under that sub-path, with anonymous access and a dozen dashboards from
    grafana.com. The stack's Grafana is shared by every mesh, keeps its admin login and has none
    of these, so every link would fail; reshaping it into Linkerd's Grafana is no small change."""
    component = {"resources": linkerd_resources(mesh.linkerd.viz.resources)}
    certificates = external_certificates(VIZ_WEBHOOKS, ca_pem=webhook_ca_pem)
    values: dict[str, Any] = {
        "linkerdNamespace": mesh.linkerd.namespace,
        "identityTrustDomain": mesh.trust_domain,
        "createNamespaceMetadataJob": False,
        "prometheus": {"enabled": False},
        "prometheusUrl": telemetry.prometheus_url,
        **{key: {**component, **certificates.get(key, {})} for key in VIZ_COMPONENTS},
    }
    values["tapInjector"]["failurePolicy"] = TAP_INJECTOR_FAILURE_POLICY
    if telemetry.jaeger_url is not None:
        values["jaegerUrl"] = telemetry.jaeger_url.removeprefix("http://")
    return values
