"""Observability of the mesh: Prometheus, Grafana, Kiali and Jaeger, and the mesh's telemetry hooks."""

from observability.backends import telemetry_backends
from observability.observability_stack import Observability, ObservabilityArgs

__all__ = ["Observability", "ObservabilityArgs", "telemetry_backends"]
