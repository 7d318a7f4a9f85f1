"""Helm values of the add-on charts, built from `ObservabilitySettings`.

Every key set here exists in the pinned chart's `values.yaml` (a test checks them against the
upstream reference), except the sections the charts pass through unchecked into the add-on's own
config: Kiali's `external_services` and Jaeger's `userconfig`.

The add-ons' pods stay out of the mesh (with the pod labels the mesh names, e.g. Istio's
`sidecar.istio.io/inject: "false"`), as upstream does. They still see the mesh under STRICT
mTLS: each mesh serves its proxies' metrics in plain text (Istio merges them on port 15020,
Consul on 20200, Linkerd on its admin port 4191) and the Prometheus chart's `kubernetes-pods`
job follows the `prometheus.io/*` pod annotations; a mesh whose pods are not annotated adds its
own scrape job (`MeshAttachment.prometheus_scrape_configs`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from mesh.attachment import GrafanaDashboards
from observability.endpoints import (
    GRAFANA_PORT,
    GRAFANA_SERVICE,
    JAEGER_OTLP_GRPC_PORT,
    JAEGER_OTLP_HTTP_PORT,
    JAEGER_QUERY_GRPC_PORT,
    JAEGER_QUERY_HTTP_PORT,
    JAEGER_SERVICE,
    KIALI_PORT,
    KIALI_SERVICE,
    PROMETHEUS_PORT,
    PROMETHEUS_SERVICE,
    AddonEndpoints,
)
from settings.models import (
    ComputeQuantities,
    GrafanaDashboardSettings,
    GrafanaSettings,
    JaegerSettings,
    KialiSettings,
    ObservabilitySettings,
    OptionalComputeQuantities,
    PersistenceSettings,
    ResourceSettings,
)

# The charts' helper containers that no setting sizes: small and fixed, but explicit like every
# container, with both limits, so a namespace whose LimitRange or ResourceQuota demands limits
# admits their pods once the add-ons' own resources have limits too.
# The Prometheus chart's config-reloader sidecar.
CONFIG_RELOADER_RESOURCES = ResourceSettings(
    requests=ComputeQuantities(cpu="5m", memory="16Mi"), limits=OptionalComputeQuantities(cpu="50m", memory="64Mi")
)
# Grafana's init container `download-dashboards` (curl): it runs before Grafana starts, so it adds
# nothing to what the pod requests.
GRAFANA_INIT_RESOURCES = ResourceSettings(
    requests=ComputeQuantities(cpu="5m", memory="16Mi"), limits=OptionalComputeQuantities(cpu="100m", memory="64Mi")
)
# A Deployment whose pod mounts a ReadWriteOnce volume is updated by stopping the old pod before
# starting the new one: in a rolling update the new pod, scheduled on another node, waits forever
# for the volume the old one still holds (Multi-Attach error), and the rollout never completes.
RECREATE_STRATEGY = {"type": "Recreate"}
# What the policy pack requires of every container and the Prometheus and Jaeger charts leave unset:
# no gain of privileges through setuid binaries, and the container runtime's default seccomp profile.
CONTAINER_SECURITY_CONTEXT = {"allowPrivilegeEscalation": False, "seccompProfile": {"type": "RuntimeDefault"}}
# Grafana's chart downloads dashboards with curl, by default with `-skf`: TLS not verified. Fail on
# an HTTP error, verify TLS, follow redirects but only to https, and stay quiet except for errors.
DASHBOARD_CURL_OPTIONS = "-sSfL --proto-redir =https"
# Where the chart mounts a dashboard provider's ConfigMap, or downloads its dashboards to: one folder each.
GRAFANA_DASHBOARDS_PATH = "/var/lib/grafana/dashboards"
# Keys of the Secrets that hold the add-ons' generated credentials.
GRAFANA_ADMIN_USER_KEY = "admin-user"
GRAFANA_ADMIN_PASSWORD_KEY = "admin-password"
KIALI_SIGNING_KEY_KEY = "signing-key"
# Where Jaeger keeps badger data.
JAEGER_DATA_PATH = "/badger"
JAEGER_DATA_VOLUME = "badger-data"
JAEGER_STORE = "primary_store"


def prometheus_values(
    observability: ObservabilitySettings,
    *,
    pod_labels: Mapping[str, str],
    scrape_configs: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """The Prometheus server alone (no alertmanager, exporters or pushgateway), as `prometheus:9090`,
    with the mesh's extra `scrape_configs`."""
    prometheus = observability.prometheus
    extra = {"extraScrapeConfigs": yaml.safe_dump([dict(job) for job in scrape_configs])} if scrape_configs else {}
    server: dict[str, Any] = {
        "fullnameOverride": PROMETHEUS_SERVICE,
        "service": {"type": "ClusterIP", "servicePort": PROMETHEUS_PORT},
        "retention": prometheus.retention,
        "persistentVolume": _persistent_volume(prometheus.persistence),
        "resources": prometheus.resources.as_manifest(),
        "podLabels": dict(pod_labels),
        "containerSecurityContext": CONTAINER_SECURITY_CONTEXT,
    }
    if prometheus.persistence is not None:
        # The chart's default too; stated, because the volume depends on it.
        server["strategy"] = RECREATE_STRATEGY
    return {
        **extra,
        "server": server,
        "configmapReload": {
            "prometheus": {
                "resources": CONFIG_RELOADER_RESOURCES.as_manifest(),
                "containerSecurityContext": CONTAINER_SECURITY_CONTEXT,
            }
        },
        "alertmanager": {"enabled": False},
        "kube-state-metrics": {"enabled": False},
        "prometheus-node-exporter": {"enabled": False},
        "prometheus-pushgateway": {"enabled": False},
    }


def _persistent_volume(persistence: PersistenceSettings | None) -> dict[str, Any]:
    if persistence is None:
        return {"enabled": False}
    volume: dict[str, Any] = {"enabled": True, "size": persistence.size}
    if persistence.storage_class:
        volume["storageClass"] = persistence.storage_class
    return volume


def grafana_values(
    grafana: GrafanaSettings,
    *,
    endpoints: AddonEndpoints,
    dashboards: GrafanaDashboards | None,
    pod_labels: Mapping[str, str],
    admin_secret: str,
) -> dict[str, Any]:
    """Grafana with Prometheus as its default data source and the mesh's dashboards provisioned."""
    persistence: dict[str, Any] = {"enabled": grafana.persistence is not None}
    volume: dict[str, Any] = {}
    if grafana.persistence is not None:
        persistence["size"] = grafana.persistence.size
        if grafana.persistence.storage_class:
            persistence["storageClassName"] = grafana.persistence.storage_class
        # The chart's claim is ReadWriteOnce (its `accessModes`). The pod's fsGroup (472, the chart's
        # default) makes the volume Grafana's; the chart's root init container that chowns it instead
        # would need CHOWN and DAC_OVERRIDE, which the policy pack refuses.
        volume = {"deploymentStrategy": RECREATE_STRATEGY, "initChownData": {"enabled": False}}
    values: dict[str, Any] = {
        "admin": {
            "existingSecret": admin_secret,
            "userKey": GRAFANA_ADMIN_USER_KEY,
            "passwordKey": GRAFANA_ADMIN_PASSWORD_KEY,
        },
        "service": {"type": "ClusterIP", "port": GRAFANA_PORT},
        "resources": grafana.resources.as_manifest(),
        "podLabels": dict(pod_labels),
        "persistence": persistence,
        **volume,
        # The chart's test pod is a Helm hook that Pulumi would never run.
        "testFramework": {"enabled": False},
        # Grafana reads nothing from the API server (no sidecars), so it gets no role at all; the
        # chart's default is a ClusterRole with `rules: []`, which the API server stores without
        # `rules`, so every preview would show it changing.
        "rbac": {"create": False},
        # Nor does it need the API token the chart mounts by default.
        "automountServiceAccountToken": False,
        "datasources": {
            "datasources.yaml": {
                "apiVersion": 1,
                "datasources": [
                    {
                        "name": "Prometheus",
                        "type": "prometheus",
                        "access": "proxy",
                        "url": endpoints.prometheus_url,
                        "isDefault": True,
                    }
                ],
            }
        },
    }
    if dashboards is not None and grafana.dashboards.enabled:
        values |= _dashboard_values(grafana.dashboards, published=dashboards)
    return values


def _dashboard_values(settings: GrafanaDashboardSettings, *, published: GrafanaDashboards) -> dict[str, Any]:
    """The mesh's dashboards in one Grafana folder: mounted from the stack's ConfigMap, or downloaded
    (TLS verified) when Grafana starts, from a mirror or from where the mesh publishes them."""
    provider = published.provider
    values: dict[str, Any] = {
        "dashboardProviders": {
            "dashboardproviders.yaml": {
                "apiVersion": 1,
                "providers": [
                    {
                        "name": provider,
                        "orgId": 1,
                        "folder": published.folder,
                        "type": "file",
                        "disableDeletion": True,
                        "options": {"path": f"{GRAFANA_DASHBOARDS_PATH}/{provider}"},
                    }
                ],
            }
        }
    }
    if settings.config_map is not None:
        # The chart mounts the ConfigMap as the provider's folder and renders no download container.
        values["dashboardsConfigMaps"] = {provider: settings.config_map}
        return values
    folder = settings.base_url or published.published_at
    values["dashboards"] = {provider: {name: {"url": f"{folder}/{file}"} for name, file in published.files.items()}}
    values["defaultCurlOptions"] = DASHBOARD_CURL_OPTIONS
    values["downloadDashboards"] = {"resources": GRAFANA_INIT_RESOURCES.as_manifest()}
    return values


def kiali_values(
    kiali: KialiSettings,
    *,
    observability: ObservabilitySettings,
    endpoints: AddonEndpoints,
    mesh_services: Mapping[str, Any],
    pod_labels: Mapping[str, str],
    signing_key_secret: str,
) -> dict[str, Any]:
    """Kiali wired to Prometheus, Grafana and Jaeger (its gRPC query port) by in-cluster URLs."""
    auth: dict[str, Any] = {"strategy": kiali.auth_strategy}
    if kiali.openid is not None:
        auth["openid"] = {"issuer_uri": kiali.openid.issuer_uri, "client_id": kiali.openid.client_id}
    grafana_access = endpoints.port_forward(GRAFANA_SERVICE, GRAFANA_PORT)
    jaeger_access = endpoints.port_forward(JAEGER_SERVICE, JAEGER_QUERY_HTTP_PORT)
    return {
        "auth": auth,
        # Read from a Secret, so the key is in neither the chart's values nor its ConfigMap.
        "login_token": {"signing_key": f"secret:{signing_key_secret}:{KIALI_SIGNING_KEY_KEY}"},
        "deployment": {
            "instance_name": KIALI_SERVICE,
            "service_type": "ClusterIP",
            "resources": kiali.resources.as_manifest(),
            "pod_labels": dict(pod_labels),
        },
        "server": {"port": KIALI_PORT},
        "external_services": {
            **mesh_services,
            "prometheus": {"url": endpoints.prometheus_url},
            "grafana": {
                "enabled": observability.grafana.enabled,
                "internal_url": endpoints.grafana_url,
                "external_url": grafana_access["url"],
            },
            "tracing": {
                "enabled": observability.jaeger.enabled,
                "provider": "jaeger",
                "use_grpc": True,
                "internal_url": endpoints.jaeger_query_grpc_url,
                "external_url": jaeger_access["url"],
            },
        },
    }


def jaeger_values(jaeger: JaegerSettings, *, data_claim: str | None, pod_labels: Mapping[str, str]) -> dict[str, Any]:
    """Jaeger v2 all-in-one: OTLP in, traces kept in memory or in badger on `data_claim`."""
    deployment: dict[str, Any] = {
        "replicas": 1,
        "resources": jaeger.resources.as_manifest(),
        "podLabels": dict(pod_labels),
        "securityContext": CONTAINER_SECURITY_CONTEXT,
        # Jaeger reads nothing from the API server; the chart mounts its token by default.
        "serviceAccount": {"automountServiceAccountToken": False},
    }
    if data_claim is not None:
        deployment["extraVolumes"] = [{"name": JAEGER_DATA_VOLUME, "persistentVolumeClaim": {"claimName": data_claim}}]
        deployment["extraVolumeMounts"] = [{"name": JAEGER_DATA_VOLUME, "mountPath": JAEGER_DATA_PATH}]
        # The chart's default too (in its template); stated, because the volume depends on it.
        deployment["strategy"] = RECREATE_STRATEGY
    return {"fullnameOverride": JAEGER_SERVICE, "jaeger": deployment, "userconfig": jaeger_config(jaeger)}


def jaeger_config(jaeger: JaegerSettings) -> dict[str, Any]:
    """Jaeger's whole configuration: the chart replaces the built-in one with it, so every listener
    binds all interfaces (the Service and the chart's probes reach the pod from outside)."""
    if jaeger.storage == "badger":
        backend: dict[str, Any] = {
            "badger": {
                "directories": {"keys": f"{JAEGER_DATA_PATH}/keys", "values": f"{JAEGER_DATA_PATH}/values"},
                "ephemeral": False,
                "ttl": {"spans": jaeger.retention},
            }
        }
    else:
        backend = {"memory": {"max_traces": jaeger.max_traces}}
    return {
        "service": {
            "extensions": ["jaeger_storage", "jaeger_query", "healthcheckv2"],
            "pipelines": {
                "traces": {"receivers": ["otlp"], "processors": ["batch"], "exporters": ["jaeger_storage_exporter"]}
            },
            "telemetry": {
                "resource": {"service.name": "jaeger"},
                "metrics": {
                    "level": "detailed",
                    "readers": [{"pull": {"exporter": {"prometheus": {"host": "0.0.0.0", "port": 8888}}}}],
                },
            },
        },
        "extensions": {
            "healthcheckv2": {"use_v2": True, "http": {"endpoint": "0.0.0.0:13133"}},
            "jaeger_storage": {"backends": {JAEGER_STORE: backend}},
            "jaeger_query": {
                "storage": {"traces": JAEGER_STORE},
                "grpc": {"endpoint": f"0.0.0.0:{JAEGER_QUERY_GRPC_PORT}"},
                "http": {"endpoint": f"0.0.0.0:{JAEGER_QUERY_HTTP_PORT}"},
            },
        },
        "receivers": {
            "otlp": {
                "protocols": {
                    "grpc": {"endpoint": f"0.0.0.0:{JAEGER_OTLP_GRPC_PORT}"},
                    "http": {"endpoint": f"0.0.0.0:{JAEGER_OTLP_HTTP_PORT}"},
                }
            }
        },
        "processors": {"batch": {}},
        "exporters": {"jaeger_storage_exporter": {"trace_storage": JAEGER_STORE}},
    }
