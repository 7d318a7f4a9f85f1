"""`MeshAttachment`: the one interface every mesh implementation offers the rest of the stack.

Namespaces, apps and add-ons are declared once; each implementation (Istio with sidecars or
ambient, Linkerd, Consul) answers the same questions its own way:

- how a namespace joins the mesh (`namespace_metadata`, `namespace_manifests`), and how its
  pods do (`meshed_pod_annotations`, `proxy_requests`);
- how "only these identities may call this workload" is written (`authorization_manifests`);
- how an app is routed from outside through the mesh's ingress gateway (`ingress_gateway`,
  `ingress_manifests`);
- which metrics and tracing hooks exist (`prometheus_scrape_configs`, `telemetry_manifests`,
  `grafana_dashboards`, `kiali_mesh_services`), and how add-ons stay out of the mesh (`addon_pod_labels`).

"mTLS required" is the mesh's own business: each implementation enforces it mesh-wide when it is
installed, from `mesh.mtlsMode`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi

from settings.models import IngressSettings

# Kubernetes' default cluster DNS domain.
CLUSTER_DOMAIN = "cluster.local"
POD_SECURITY_ENFORCE_LABEL = "pod-security.kubernetes.io/enforce"

Manifest = dict[str, Any]


def pod_security_labels(*, enforce: str) -> dict[str, str]:
    """Pod Security admission labels: `enforce` what the data plane allows, and always warn and audit
    at `restricted`, so a regression in an app's own spec is reported."""
    return {
        POD_SECURITY_ENFORCE_LABEL: enforce,
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/audit": "restricted",
    }


@dataclass(frozen=True, kw_only=True)
class ObjectMetadata:
    """Labels and annotations to put on an object's metadata."""

    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class Workload:
    """A workload in the mesh as authorization sees it: its pods, identity and one named port."""

    name: str
    namespace: str
    service_account: str
    service: str
    """The Kubernetes Service in front of it (Consul names workloads by Service)."""
    selector: Mapping[str, str]
    port: int
    port_name: str
    protocol: str
    """The Service port's `appProtocol`: http, http2, grpc or tcp."""
    probe_paths: tuple[str, ...] = ()
    """HTTP paths the kubelet probes on that port, which L7 rules must still let through."""

    @property
    def service_host(self) -> str:
        """The cluster DNS name of its Service."""
        return f"{self.service}.{self.namespace}.svc.{CLUSTER_DOMAIN}"


@dataclass(frozen=True, kw_only=True)
class TelemetryBackends:
    """Where the add-ons answer, for the meshes that push telemetry to them or link to them."""

    prometheus_url: str | None
    jaeger_url: str | None
    """The Jaeger UI, for dashboards that link traces."""
    otlp_host: str | None
    """Jaeger's OpenTelemetry (OTLP) collector host, when Jaeger is installed."""
    otlp_grpc_port: int
    sampling_percentage: float


@dataclass(frozen=True, kw_only=True)
class MeshAttachment(ABC):
    """What namespaces, workloads and add-ons need from the mesh, whichever implements it."""

    implementation: str
    """`istio-sidecar`, `istio-ambient`, `linkerd` or `consul`."""
    control_plane: Sequence[pulumi.Resource]
    """Ready before any meshed pod or mesh resource is created: the injector and webhooks serve."""
    root_namespace: str
    """Where the mesh's control plane and mesh-wide configuration live."""
    trust_domain: str

    @abstractmethod
    def namespace_metadata(self, namespace: str, *, default_deny: bool) -> ObjectMetadata:
        """Labels and annotations that enrol `namespace` (and its Pod Security level); with
        `default_deny`, those that make its workloads refuse callers no policy allows."""

    def namespace_manifests(self, namespace: str, *, default_deny: bool, layer7: bool) -> list[Manifest]:
        """Mesh objects an enrolled namespace needs: a default-deny policy, an L7 proxy when
        `layer7` (some workload in it has L7 rules). None by default."""
        return []

    def service_labels(self, *, layer7: bool) -> Mapping[str, str]:
        """Labels a workload's Service carries; `layer7` when its authorization has L7 rules."""
        return {}

    def meshed_pod_annotations(self) -> Mapping[str, str]:
        """Annotations a workload's pod template carries to be meshed; none where the namespace decides."""
        return {}

    callers_need_service: bool = False
    """Whether a workload that only calls others still needs a Service to have a mesh identity."""
    pods_mount_service_account_token: bool = False
    """Whether meshed pods need their ServiceAccount token mounted (to log in to the mesh)."""

    @abstractmethod
    def authorization_manifests(
        self, workload: Workload, *, callers: Sequence[Workload], methods: Sequence[str] = ()
    ) -> list[Manifest]:
        """The objects that let only `callers` reach `workload` (and, with `methods`, only with
        those HTTP methods). With no callers, nothing may call it."""

    @abstractmethod
    def principal(self, workload: Workload) -> str:
        """A workload's identity, as this mesh's policies and logs name it."""

    # Observability hooks.

    addon_pod_labels: Mapping[str, str] = field(default_factory=dict)
    """Pod labels that keep an add-on's pods out of the mesh even if their namespace is enrolled."""

    def prometheus_scrape_configs(self) -> list[Manifest]:
        """Extra Prometheus scrape jobs for the mesh's metrics; none where pods are annotated for scraping."""
        return []

    def telemetry_manifests(self, backends: TelemetryBackends) -> list[Manifest]:
        """Mesh-wide telemetry objects (tracing, access logs) created once the add-ons exist."""
        return []

    def grafana_dashboards(self) -> GrafanaDashboards | None:
        """Grafana dashboards the mesh publishes, if any."""
        return None

    def kiali_mesh_services(self) -> Mapping[str, Any] | None:
        """What Kiali's `external_services` value needs to observe this mesh; None when Kiali cannot."""
        return None

    ingress_gateway: Workload | None = None
    """The ingress gateway apps can be routed through (its pods, identity and Service), where the
    mesh has one."""

    def ingress_manifests(self, *, app: Workload, ingress: IngressSettings) -> dict[str, Manifest]:
        """The objects that route `ingress` (a host and path prefix, HTTPS with a certificate
        Secret) from the mesh's ingress gateway to `app`'s Service, each by the suffix of its
        resource name; none for a mesh without an ingress gateway."""
        return {}


@dataclass(frozen=True, kw_only=True)
class GrafanaDashboards:
    """The Grafana dashboards a mesh publishes, for one Grafana folder: each dashboard's file, and
    where the mesh publishes the files. How Grafana gets them (from there, from a mirror of that
    folder, or from a ConfigMap) is the stack's choice, made in `observability/`."""

    folder: str
    files: Mapping[str, str]
    """Dashboard name → the name of its file where it is published."""
    published_at: str
    """The https:// folder holding the files, for the mesh's version."""

    @property
    def provider(self) -> str:
        return self.folder.lower()
