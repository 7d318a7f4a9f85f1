"""Helm values for Istio's base, istiod and gateway charts, built from `IstioMeshSettings`.

Every key set here exists in the chart of the pinned version (see the chart `values.yaml`
files, and the gateway chart's `values.schema.json`); a test checks them against the upstream
reference, because Helm silently ignores a misspelled key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi

from mesh.istio.manifests import CROSS_NETWORK_PORT, NETWORK_LABEL, STATUS_PORT
from mesh.istio.settings import (
    EastWestGatewaySettings,
    GatewaySettings,
    IstioMeshSettings,
    MultiClusterSettings,
    RevisionSettings,
)

# The chart of the control plane (the pack recognises an Istio stack by it).
CONTROL_PLANE_CHART = "istiod"
# Its CRDs and cluster-wide objects; the ingress gateway; and, in ambient mode, the node agents.
BASE_CHART = "base"
GATEWAY_CHART = "gateway"
CNI_CHART = "cni"
ZTUNNEL_CHART = "ztunnel"
AMBIENT_PROFILE = {"profile": "ambient"}
# The container runtime's default seccomp profile, which the charts leave unset by default: for
# istiod, the ingress gateway and istio-cni (the policy pack refuses pods without one), and for
# waypoints, which run in the apps' namespaces that enforce Pod Security `restricted` in ambient mode.
RESTRICTED_SECCOMP = {"seccompProfile": {"type": "RuntimeDefault"}}
# What the gateway chart's pod security context is unless the values replace it: the proxy, not
# root, may bind ports below 1024.
UNPRIVILEGED_PORTS = {"sysctls": [{"name": "net.ipv4.ip_unprivileged_port_start", "value": "0"}]}
# The east-west gateway serves only the networks this variable names: its own.
REQUESTED_NETWORK_VIEW = "ISTIO_META_REQUESTED_NETWORK_VIEW"
EAST_WEST_GATEWAY_PORTS = [
    {"name": "status-port", "port": STATUS_PORT, "protocol": "TCP", "targetPort": STATUS_PORT},
    {"name": "tls", "port": CROSS_NETWORK_PORT, "protocol": "TCP", "targetPort": CROSS_NETWORK_PORT},
]
# Envoy writes access logs to this path; the proxy's stdout makes them `kubectl logs` output.
PROXY_STDOUT = "/dev/stdout"
# A trust bundle of several roots (while moving from one root to another): istiod hands proxies every
# root it trusts (`ISTIO_MULTIROOT_MESH`), and each proxy's agent takes them over xDS
# (`PROXY_CONFIG_XDS_AGENT`), so the bundle can change without a restart of istiod's clients.
MULTI_ROOT_ISTIOD_ENV = {"ISTIO_MULTIROOT_MESH": "true"}
MULTI_ROOT_PROXY_METADATA = {"PROXY_CONFIG_XDS_AGENT": "true"}
# On istiod's pods: which CA it was started with (see `istiod_values`).
CA_ANNOTATION = "servicemesh/istio-ca"


# By default Istio's validating webhooks start as `Ignore` and istiod flips them to `Fail` once
# ready; under server-side apply Pulumi would flip them back on every update. Fail from the start:
# nothing validates Istio resources before istiod runs, and Pulumi creates them only after istiod
# is ready. Both the base chart (its default-revision webhook) and istiod read this key.
FAIL_CLOSED_VALIDATION = {"validationFailurePolicy": "Fail"}


def base_values(mesh: IstioMeshSettings) -> dict[str, Any]:
    """Values of the `base` chart: CRDs, cluster-wide resources and the default revision."""
    values: dict[str, Any] = {"global": {"istioNamespace": mesh.istio.namespace}, "base": dict(FAIL_CLOSED_VALIDATION)}
    default_revision = mesh.istio.effective_default_revision
    if default_revision is not None:
        values["defaultRevision"] = default_revision.name
    return values


def mesh_config(
    mesh: IstioMeshSettings,
    *,
    extension_providers: Sequence[Mapping[str, Any]] = (),
    additional_root_pems: Sequence[pulumi.Input[str]] = (),
) -> dict[str, Any]:
    """istiod's `meshConfig`: access logging, the root namespace, tracing providers and the trust
    bundle's extra roots."""
    config: dict[str, Any] = {
        "rootNamespace": mesh.istio.namespace,
        "trustDomain": mesh.trust_domain,
        "accessLogFile": PROXY_STDOUT if mesh.access_logging else "",
        # Prometheus scrapes application and proxy metrics on one port, which keeps scraping
        # working under STRICT mTLS (Istio's default, stated so the intent is visible).
        "enablePrometheusMerge": True,
    }
    if extension_providers:
        config["extensionProviders"] = [dict(provider) for provider in extension_providers]
    trust = mesh.istio.trust
    if trust.customised:
        # Proxies take their trust bundle from istiod over xDS, so it may hold several roots.
        config["defaultConfig"] = {"proxyMetadata": MULTI_ROOT_PROXY_METADATA}
    if trust.ca == "selfSigned" and additional_root_pems:
        # istiod's self-signed root stays the signing one; these join the bundle beside it. With a
        # plug-in CA the bundle is `cacerts`' root-cert.pem instead (mesh/istio/trust.py).
        config["caCertificates"] = [{"pem": pem} for pem in additional_root_pems]
    return config


def istiod_values(
    mesh: IstioMeshSettings,
    *,
    revision: RevisionSettings | None = None,
    extension_providers: Sequence[Mapping[str, Any]] = (),
    additional_root_pems: Sequence[pulumi.Input[str]] = (),
) -> dict[str, Any]:
    """Values of one `istiod` chart: the control plane (of `revision`, if any), the sidecar defaults,
    and how it takes part in a trust bundle of several roots."""
    istiod = mesh.istio.istiod
    revision_values = {"revision": revision.name, "revisionTags": mesh.istio.tags_of(revision)} if revision else {}
    global_values: dict[str, Any] = {
        # istiod's own image and every image it injects (sidecars, the gateway, waypoints) use this hub.
        "hub": mesh.istio.image_hub,
        "istioNamespace": mesh.istio.namespace,
        "defaultPodDisruptionBudget": {"enabled": istiod.pod_disruption_budget},
        "proxy": {"resources": mesh.istio.proxy.resources.as_manifest()},
    }
    if multi_cluster := mesh.istio.multi_cluster:
        # The mesh ID and network go into every injected proxy's metadata too: a proxy routes to an
        # endpoint of another network through that network's east-west gateway.
        global_values |= {
            "meshID": multi_cluster.mesh_id,
            "multiCluster": {"clusterName": multi_cluster.cluster_name},
            "network": multi_cluster.network,
        }
    ambient: dict[str, Any] = {}
    if mesh.istio.dataplane == "ambient":
        global_values["waypoint"] = {"resources": mesh.istio.ambient.waypoint.resources.as_manifest()}
        ambient = {**AMBIENT_PROFILE, "gateways": dict(RESTRICTED_SECCOMP)}
    trust = mesh.istio.trust
    trust_values: dict[str, Any] = {}
    if trust.customised:
        trust_values["env"] = MULTI_ROOT_ISTIOD_ENV
    if trust.ca == "plugin":
        # istiod chooses between its self-signed CA and `cacerts` when it starts: a new annotation
        # restarts it on the switch.
        trust_values["podAnnotations"] = {CA_ANNOTATION: trust.ca}
    return {
        **revision_values,
        **ambient,
        **trust_values,
        "global": global_values,
        "replicaCount": istiod.replicas,
        "autoscaleEnabled": istiod.autoscaling.enabled,
        "autoscaleMin": istiod.autoscaling.min_replicas,
        "autoscaleMax": istiod.autoscaling.max_replicas,
        "resources": istiod.resources.as_manifest(),
        **RESTRICTED_SECCOMP,
        "meshConfig": mesh_config(
            mesh, extension_providers=extension_providers, additional_root_pems=additional_root_pems
        ),
        "base": dict(FAIL_CLOSED_VALIDATION),
    }


def gateway_values(mesh: IstioMeshSettings) -> dict[str, Any]:
    """Values of the `gateway` chart: the ingress gateway Deployment and Service."""
    gateway = mesh.istio.gateway
    return _gateway_chart_values(mesh, gateway, service={"type": gateway.service_type})


def _gateway_chart_values(
    mesh: IstioMeshSettings, gateway: GatewaySettings | EastWestGatewaySettings, *, service: dict[str, Any]
) -> dict[str, Any]:
    """The values of one install of the `gateway` chart: its injector, Service, size and pod security."""
    revision = {"revision": mesh.istio.gateway_revision} if mesh.istio.gateway_revision else {}
    return {
        **revision,
        "service": service,
        "replicaCount": gateway.replicas,
        "autoscaling": {
            "enabled": gateway.autoscaling.enabled,
            "minReplicas": gateway.autoscaling.min_replicas,
            "maxReplicas": gateway.autoscaling.max_replicas,
        },
        "podDisruptionBudget": {"minAvailable": 1} if gateway.pod_disruption_budget else {},
        "resources": gateway.resources.as_manifest(),
        "securityContext": {**UNPRIVILEGED_PORTS, **RESTRICTED_SECCOMP},
    }


def east_west_gateway_values(mesh: IstioMeshSettings, multi_cluster: MultiClusterSettings) -> dict[str, Any]:
    """Values of the second `gateway` chart install: the east-west gateway of this cluster's network.

    Not the chart's `networkGateway` value, which also publishes istiod (15012) and its webhook
    (15017) for primary-remote meshes; in a multi-primary mesh every cluster has its own istiod, so
    only the health check and the mTLS passthrough port are published."""
    gateway = multi_cluster.east_west_gateway
    return {
        **_gateway_chart_values(
            mesh, gateway, service={"type": gateway.service_type, "ports": EAST_WEST_GATEWAY_PORTS}
        ),
        "labels": {NETWORK_LABEL: multi_cluster.network},
        "env": {REQUESTED_NETWORK_VIEW: multi_cluster.network},
    }


def cni_values(mesh: IstioMeshSettings) -> dict[str, Any]:
    """Values of the `cni` chart: the ambient node agent that redirects pod traffic to ztunnel."""
    return {
        **AMBIENT_PROFILE,
        "global": {"hub": mesh.istio.image_hub},
        "resources": mesh.istio.ambient.cni.resources.as_manifest(),
        **RESTRICTED_SECCOMP,
    }


def ztunnel_values(mesh: IstioMeshSettings) -> dict[str, Any]:
    """Values of the `ztunnel` chart: the per-node mTLS proxy, trusting istiod in the mesh namespace."""
    return {
        **AMBIENT_PROFILE,
        "hub": mesh.istio.image_hub,
        "istioNamespace": mesh.istio.namespace,
        "resources": mesh.istio.ambient.ztunnel.resources.as_manifest(),
    }
