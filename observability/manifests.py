"""Pure builders of the mesh-wide telemetry configuration that the add-ons need."""

from __future__ import annotations

from typing import Any

from observability.endpoints import JAEGER_OTLP_GRPC_PORT, JAEGER_TRACING_PROVIDER, AddonEndpoints
from settings.models import ObservabilitySettings

TELEMETRY_API_VERSION = "telemetry.istio.io/v1"
MESH_TELEMETRY_NAME = "mesh-default"
# Istio's built-in access-log provider: Envoy's file log at meshConfig.accessLogFile.
ENVOY_ACCESS_LOG_PROVIDER = "envoy"


def tracing_extension_providers(observability: ObservabilitySettings) -> list[dict[str, Any]]:
    """istiod `meshConfig.extensionProviders`: Jaeger's OpenTelemetry collector, when installed."""
    if not observability.jaeger.enabled:
        return []
    endpoints = AddonEndpoints(namespace=observability.namespace)
    return [
        {
            "name": JAEGER_TRACING_PROVIDER,
            "opentelemetry": {"service": endpoints.jaeger_collector_host, "port": JAEGER_OTLP_GRPC_PORT},
        }
    ]


def mesh_telemetry(
    *, root_namespace: str, observability: ObservabilitySettings, access_logging: bool
) -> dict[str, Any]:
    """The mesh-wide `Telemetry` (root namespace, no selector): tracing to Jaeger at the stack's
    sampling percentage, and Envoy access logging on or off."""
    spec: dict[str, Any] = {
        "accessLogging": [{"providers": [{"name": ENVOY_ACCESS_LOG_PROVIDER}], "disabled": not access_logging}]
    }
    if observability.jaeger.enabled:
        spec["tracing"] = [
            {
                "providers": [{"name": JAEGER_TRACING_PROVIDER}],
                "randomSamplingPercentage": observability.tracing.sampling_percentage,
            }
        ]
    return {
        "apiVersion": TELEMETRY_API_VERSION,
        "kind": "Telemetry",
        "metadata": {"name": MESH_TELEMETRY_NAME, "namespace": root_namespace},
        "spec": spec,
    }
