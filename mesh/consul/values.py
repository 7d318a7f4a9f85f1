"""Helm values for the `consul` chart, built from `ConsulMeshSettings`.

Every key set here exists in the chart's `values.yaml` at the pinned version; a test checks them
against the upstream reference, because Helm silently ignores a misspelled key. No key material is
ever a value: the chart generates the CA, the gossip key and the ACL tokens in the cluster.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml

from mesh.attachment import TelemetryBackends
from mesh.consul.settings import ConsulMeshSettings
from settings.models import ComputeQuantities, OptionalComputeQuantities, ResourceSettings

# The one chart of Consul (the pack recognises a Consul stack by it).
CONTROL_PLANE_CHART = "consul"
# Prefix of every object the chart names: `consul-server`, `consul-ui`, `consul-connect-injector`.
RESOURCE_PREFIX = "consul"
UI_SERVICE = f"{RESOURCE_PREFIX}-ui"
# With TLS on and `httpsOnly`, the UI Service exposes only HTTPS, on this port (to the servers' 8501).
UI_HTTPS_PORT = 443
# The Secret the chart's ACL bootstrap writes the management token to (key `token`).
BOOTSTRAP_TOKEN_SECRET = f"{RESOURCE_PREFIX}-bootstrap-acl-token"
# The one webhook-cert-manager pod (its replica count is fixed by the chart). The chart's own
# default, stated so the footprint reader (`footprint.py`) sizes it from the values.
WEBHOOK_CERT_MANAGER_RESOURCES = ResourceSettings(
    requests=ComputeQuantities(cpu="100m", memory="50Mi"),
    limits=OptionalComputeQuantities(cpu="100m", memory="50Mi"),
)
# The `consul-connect-inject-init` container the injector adds to every meshed pod: the chart's
# default requests and memory limit, and the CPU limit the chart recommends, so an app namespace
# whose LimitRange or ResourceQuota demands limits admits its pods (the chart sets no CPU limit).
CONNECT_INIT_RESOURCES = ResourceSettings(
    requests=ComputeQuantities(cpu="50m", memory="25Mi"),
    limits=OptionalComputeQuantities(cpu="500m", memory="150Mi"),
)
# Every namespace carries this label (Kubernetes >= 1.22, which the chart requires).
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"


def consul_values(
    mesh: ConsulMeshSettings, *, telemetry: TelemetryBackends, enrolled_namespaces: Sequence[str]
) -> dict[str, Any]:
    """Values of the `consul` chart: TLS, ACLs and gossip encryption on (generated in the cluster),
    servers, the connect-injector for the enrolled namespaces, metrics, and the UI."""
    return {
        "global": _global_values(mesh),
        "server": _server_values(mesh),
        "connectInject": _connect_inject_values(mesh, enrolled_namespaces=enrolled_namespaces),
        "webhookCertManager": {"resources": WEBHOOK_CERT_MANAGER_RESOURCES.as_manifest()},
        "ui": _ui_values(telemetry),
    }


def _global_values(mesh: ConsulMeshSettings) -> dict[str, Any]:
    return {
        "name": RESOURCE_PREFIX,
        "datacenter": mesh.consul.datacenter,
        # TLS for Consul's own RPC and HTTP APIs (the mesh's mTLS comes from Consul's Connect CA
        # either way); the chart's tls-init job generates the CA and server certificates.
        "tls": {"enabled": True, "enableAutoEncrypt": True, "verify": True, "httpsOnly": True},
        # ACLs with the default policy `deny`, which also makes intentions deny by default; the
        # chart bootstraps the tokens and a Kubernetes auth method for the injected pods.
        "acls": {"manageSystemACLs": True},
        "gossipEncryption": {"autoGenerate": True},
        # The servers' own metrics are served only over HTTPS from Consul's CA and only to an ACL
        # token with `agent:read`; Prometheus' annotation-driven job has neither, so the servers
        # are not annotated for it. The sidecars' metrics (what the UI shows) are scraped as usual.
        "metrics": {"enabled": True, "enableAgentMetrics": False},
    }


def _server_values(mesh: ConsulMeshSettings) -> dict[str, Any]:
    # The server pods' `locality-init` init container has no resources and the chart offers no key
    # for them (templates/server-statefulset.yaml at 2.0.3); installed as a Helm release, the
    # chart's objects cannot be patched by a transform either. Where Consul's namespace has a
    # ResourceQuota on limits or a per-Pod LimitRange maximum, it also needs a LimitRange with
    # container defaults, or the servers are refused.
    server = mesh.consul.server
    values: dict[str, Any] = {
        "replicas": server.replicas,
        "storage": server.storage,
        "resources": server.resources.as_manifest(),
        # Over one server the chart's budget lets one leave at a time (the quorum survives it);
        # over a single server it would be `maxUnavailable: 0`, which blocks every node drain.
        "disruptionBudget": {"enabled": server.replicas > 1},
    }
    if server.storage_class is not None:
        values["storageClass"] = server.storage_class
    return values


def _connect_inject_values(mesh: ConsulMeshSettings, *, enrolled_namespaces: Sequence[str]) -> dict[str, Any]:
    inject = mesh.consul.connect_inject
    return {
        "enabled": True,
        # Pods opt in with the connect-inject annotation; nothing else in the cluster is injected.
        "default": False,
        "replicas": inject.replicas,
        "resources": inject.resources.as_manifest(),
        # With two replicas the chart's computed budget is `maxUnavailable: 0`; one always up is
        # what a webhook needs, and drains still proceed one pod at a time.
        "disruptionBudget": {"enabled": inject.replicas > 1, "minAvailable": 1},
        "transparentProxy": {"defaultEnabled": True},
        # Each sidecar serves Envoy's metrics on 20200 with `prometheus.io/*` pod annotations.
        # Merging the app's own metrics stays off: consul-dataplane answers a merged scrape with an
        # error in the body when the app serves no `/metrics`, which breaks the whole scrape.
        "metrics": {"defaultEnabled": True, "defaultEnableMerging": False},
        "sidecarProxy": {"resources": mesh.consul.proxy.resources.as_manifest()},
        "initContainer": {"resources": CONNECT_INIT_RESOURCES.as_manifest()},
        # The pod webhook fails closed; asked only about the enrolled namespaces, a stopped
        # injector cannot block pod creation anywhere else in the cluster.
        "namespaceSelector": yaml.safe_dump(_namespaces_selector(enrolled_namespaces)),
        "k8sAllowNamespaces": list(enrolled_namespaces),
        # The injector's API-gateway controllers watch the Gateway API kinds whether or not a
        # gateway is used, and fail to start without their CRDs: the chart installs them.
        "apiGateway": {"manageExternalCRDs": True},
    }


def _namespaces_selector(namespaces: Sequence[str]) -> dict[str, Any]:
    """A namespace selector matching exactly `namespaces` (none if there are none)."""
    if not namespaces:
        return {"matchExpressions": [{"key": NAMESPACE_NAME_LABEL, "operator": "DoesNotExist"}]}
    return {"matchExpressions": [{"key": NAMESPACE_NAME_LABEL, "operator": "In", "values": list(namespaces)}]}


def _ui_values(telemetry: TelemetryBackends) -> dict[str, Any]:
    # The servers proxy the UI's metrics queries, so the URL is the in-cluster one, with its port.
    metrics: dict[str, Any] = {"enabled": telemetry.prometheus_url is not None}
    if telemetry.prometheus_url is not None:
        metrics |= {"provider": "prometheus", "baseURL": telemetry.prometheus_url}
    return {"enabled": True, "service": {"type": "ClusterIP"}, "metrics": metrics}
