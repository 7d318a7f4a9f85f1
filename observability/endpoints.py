"""In-cluster names and ports of the add-ons, computed once.

The values builders set these names and ports on the charts (`fullnameOverride`, service ports),
and everything that calls an add-on (Kiali, Grafana, istiod's tracing provider) reads them here,
so no Service name or port is written twice.
"""

from __future__ import annotations

from dataclasses import dataclass

from mesh.attachment import CLUSTER_DOMAIN

PROMETHEUS_SERVICE = "prometheus"
PROMETHEUS_PORT = 9090
GRAFANA_SERVICE = "grafana"
GRAFANA_PORT = 3000
KIALI_SERVICE = "kiali"
KIALI_PORT = 20001
JAEGER_SERVICE = "jaeger"
# Fixed by the jaeger chart's Service; the collector config binds the same ports.
JAEGER_OTLP_GRPC_PORT = 4317
JAEGER_OTLP_HTTP_PORT = 4318
JAEGER_QUERY_HTTP_PORT = 16686
JAEGER_QUERY_GRPC_PORT = 16685


@dataclass(frozen=True, kw_only=True)
class AddonEndpoints:
    """Where each add-on answers, inside the cluster and through `kubectl port-forward`."""

    namespace: str

    def host(self, service: str) -> str:
        return f"{service}.{self.namespace}.svc.{CLUSTER_DOMAIN}"

    @property
    def prometheus_url(self) -> str:
        return f"http://{self.host(PROMETHEUS_SERVICE)}:{PROMETHEUS_PORT}"

    @property
    def grafana_url(self) -> str:
        return f"http://{self.host(GRAFANA_SERVICE)}:{GRAFANA_PORT}"

    @property
    def jaeger_query_http_url(self) -> str:
        return f"http://{self.host(JAEGER_SERVICE)}:{JAEGER_QUERY_HTTP_PORT}"

    @property
    def jaeger_query_grpc_url(self) -> str:
        return f"http://{self.host(JAEGER_SERVICE)}:{JAEGER_QUERY_GRPC_PORT}"

    @property
    def jaeger_collector_host(self) -> str:
        return self.host(JAEGER_SERVICE)

    def port_forward(self, service: str, port: int, path: str = "/") -> dict[str, str]:
        """The command that reaches an add-on from a laptop, and the URL it then answers on."""
        return {
            "command": f"kubectl -n {self.namespace} port-forward svc/{service} {port}:{port}",
            "url": f"http://localhost:{port}{path}",
        }
