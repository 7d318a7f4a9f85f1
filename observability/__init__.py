"""Observability of the mesh: Prometheus, Grafana, Kiali and Jaeger, and the mesh-wide telemetry."""

from observability.manifests import tracing_extension_providers
from observability.observability_stack import Observability, ObservabilityArgs

__all__ = ["Observability", "ObservabilityArgs", "tracing_extension_providers"]
