"""Istio's observability hooks: tracing providers for istiod, the mesh-wide `Telemetry`, and the
Grafana dashboards Istio publishes with each release."""

from __future__ import annotations

from typing import Any

from mesh.attachment import GrafanaDashboards, TelemetryBackends

TELEMETRY_API_VERSION = "telemetry.istio.io/v1"
MESH_TELEMETRY_NAME = "mesh-default"
# Istio's built-in access-log provider: Envoy's file log at meshConfig.accessLogFile.
ENVOY_ACCESS_LOG_PROVIDER = "envoy"
JAEGER_TRACING_PROVIDER = "jaeger"
# The Grafana dashboards Istio publishes with each release (name → file), which Grafana downloads
# at start or mounts from a ConfigMap (`observability.grafana.dashboards`).
ISTIO_DASHBOARDS = {
    "istio-mesh": "istio-mesh-dashboard.gen.json",
    "istio-service": "istio-service-dashboard.json",
    "istio-workload": "istio-workload-dashboard.json",
    "istio-control-plane": "pilot-dashboard.gen.json",
    "istio-performance": "istio-performance-dashboard.json",
}
AMBIENT_DASHBOARDS = {"istio-ztunnel": "ztunnel-dashboard.gen.json"}


def tracing_extension_providers(backends: TelemetryBackends) -> list[dict[str, Any]]:
    """istiod `meshConfig.extensionProviders`: Jaeger's OpenTelemetry collector, when installed."""
    if backends.otlp_host is None:
        return []
    return [
        {
            "name": JAEGER_TRACING_PROVIDER,
            "opentelemetry": {"service": backends.otlp_host, "port": backends.otlp_grpc_port},
        }
    ]


def mesh_telemetry(*, root_namespace: str, backends: TelemetryBackends, access_logging: bool) -> dict[str, Any]:
    """The mesh-wide `Telemetry` (root namespace, no selector): tracing to Jaeger at the stack's
    sampling percentage, and Envoy access logging on or off (`access_logging`)."""
    spec: dict[str, Any] = {
        "accessLogging": [{"providers": [{"name": ENVOY_ACCESS_LOG_PROVIDER}], "disabled": not access_logging}]
    }
    if backends.otlp_host is not None:
        spec["tracing"] = [
            {
                "providers": [{"name": JAEGER_TRACING_PROVIDER}],
                "randomSamplingPercentage": backends.sampling_percentage,
            }
        ]
    return {
        "apiVersion": TELEMETRY_API_VERSION,
        "kind": "Telemetry",
        "metadata": {"name": MESH_TELEMETRY_NAME, "namespace": root_namespace},
        "spec": spec,
    }


def istio_dashboards_folder(istio_version: str) -> str:
    """Where Istio publishes its dashboards for this exact release: the release tag's source tree."""
    return f"https://raw.githubusercontent.com/istio/istio/{istio_version}/manifests/addons/dashboards"


def istio_dashboards(istio_version: str, *, ambient: bool) -> GrafanaDashboards:
    return GrafanaDashboards(
        folder="Istio",
        files={**ISTIO_DASHBOARDS, **(AMBIENT_DASHBOARDS if ambient else {})},
        published_at=istio_dashboards_folder(istio_version),
    )
