"""What the mesh needs to know about the add-ons before they exist: where they will answer."""

from __future__ import annotations

from mesh.attachment import TelemetryBackends
from observability.endpoints import JAEGER_OTLP_GRPC_PORT, AddonEndpoints
from settings.models import ObservabilitySettings


def telemetry_backends(observability: ObservabilitySettings) -> TelemetryBackends:
    """The add-ons a stack enables, as the mesh's tracing and dashboard hooks see them."""
    endpoints = AddonEndpoints(namespace=observability.namespace)
    jaeger = observability.jaeger.enabled
    return TelemetryBackends(
        prometheus_url=endpoints.prometheus_url if observability.prometheus.enabled else None,
        jaeger_url=endpoints.jaeger_query_http_url if jaeger else None,
        otlp_host=endpoints.jaeger_collector_host if jaeger else None,
        otlp_grpc_port=JAEGER_OTLP_GRPC_PORT,
        sampling_percentage=observability.tracing.sampling_percentage,
    )
