"""`IstioAttachment`: how namespaces and workloads join an Istio mesh, with sidecars or ambient."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mesh.attachment import GrafanaDashboards, Manifest, MeshAttachment, ObjectMetadata, TelemetryBackends, Workload
from mesh.istio.manifests import (
    AMBIENT_DATAPLANE_MODE,
    AMBIENT_POD_SECURITY_LABELS,
    DATAPLANE_MODE_LABEL,
    INGRESS_USE_WAYPOINT_LABEL,
    SIDECAR_POD_SECURITY_LABELS,
    USE_WAYPOINT_LABEL,
    WAYPOINT_NAME,
    allow_from_principals,
    allow_nothing_policy,
    ingress_gateway,
    ingress_route,
    injection_labels,
    spiffe_principal,
    waypoint,
)
from mesh.istio.telemetry import istio_dashboards, mesh_telemetry
from settings.models import IngressSettings


@dataclass(frozen=True, kw_only=True)
class IstioAttachment(MeshAttachment):
    """Istio: namespaces labelled for injection (sidecar) or ambient; `AuthorizationPolicy` with
    SPIFFE principals; Envoy metrics merged for Prometheus' annotation-driven scraping; tracing
    and access logs through the `Telemetry` API; Kiali."""

    injection_labels_by_namespace: Mapping[str, Mapping[str, str]]
    """Per enrolled namespace, the label that selects its sidecar injector (or ambient mode)."""
    version: str
    """Whose Grafana dashboards to provision."""
    access_logging: bool = False
    """Whether the mesh-wide `Telemetry` turns on Envoy's access logs (`mesh.accessLogging`)."""

    @property
    def ambient(self) -> bool:
        return self.implementation == "istio-ambient"

    def namespace_metadata(self, namespace: str, *, default_deny: bool) -> ObjectMetadata:
        security = AMBIENT_POD_SECURITY_LABELS if self.ambient else SIDECAR_POD_SECURITY_LABELS
        return ObjectMetadata(labels={**security, **self.injection_labels_by_namespace[namespace]})

    def namespace_manifests(self, namespace: str, *, default_deny: bool, layer7: bool) -> list[Manifest]:
        manifests = [allow_nothing_policy(namespace=namespace)] if default_deny else []
        if self.ambient and layer7:
            manifests.append(waypoint(namespace=namespace))
        return manifests

    def service_labels(self, *, layer7: bool) -> Mapping[str, str]:
        if self.ambient and layer7:
            return {USE_WAYPOINT_LABEL: WAYPOINT_NAME, INGRESS_USE_WAYPOINT_LABEL: "true"}
        return {}

    def authorization_manifests(
        self, workload: Workload, *, callers: Sequence[Workload], methods: Sequence[str] = ()
    ) -> list[Manifest]:
        principals = [self.principal(caller) for caller in callers]
        if not (self.ambient and methods):
            return [
                allow_from_principals(
                    name=workload.name,
                    namespace=workload.namespace,
                    selector=workload.selector,
                    principals=principals,
                    methods=methods,
                )
            ]
        # ztunnel enforces L4 only and, behind a waypoint, sees the waypoint's identity: the callers
        # and methods are checked at the waypoint, and ztunnel lets only the waypoint through.
        # istiod names the waypoint's ServiceAccount after its Gateway.
        waypoint_principal = spiffe_principal(
            trust_domain=self.trust_domain, namespace=workload.namespace, service_account=WAYPOINT_NAME
        )
        return [
            allow_from_principals(
                name=workload.name,
                namespace=workload.namespace,
                target_service=workload.service,
                principals=principals,
                methods=methods,
            ),
            allow_from_principals(
                name=f"{workload.name}-{WAYPOINT_NAME}",
                namespace=workload.namespace,
                selector=workload.selector,
                principals=[waypoint_principal],
            ),
        ]

    def principal(self, workload: Workload) -> str:
        return spiffe_principal(
            trust_domain=self.trust_domain, namespace=workload.namespace, service_account=workload.service_account
        )

    def ingress_manifests(self, *, app: Workload, ingress: IngressSettings) -> dict[str, Manifest]:
        """A `Gateway` on the ingress gateway's pods and a `VirtualService` to the app's Service."""
        if self.ingress_gateway is None:
            return {}
        return {
            "gateway": ingress_gateway(app=app, ingress=ingress, gateway_selector=self.ingress_gateway.selector),
            "route": ingress_route(app=app, ingress=ingress),
        }

    def telemetry_manifests(self, backends: TelemetryBackends) -> list[Manifest]:
        return [
            mesh_telemetry(root_namespace=self.root_namespace, backends=backends, access_logging=self.access_logging)
        ]

    def grafana_dashboards(self) -> GrafanaDashboards:
        return istio_dashboards(self.version, ambient=self.ambient)

    def kiali_mesh_services(self) -> Mapping[str, Any]:
        return {"istio": {"root_namespace": self.root_namespace}}


def enrolment_labels(*, ambient: bool, revision: str | None) -> dict[str, str]:
    """The one label that enrols a namespace: ambient mode, or the sidecar injector to use."""
    return {DATAPLANE_MODE_LABEL: AMBIENT_DATAPLANE_MODE} if ambient else injection_labels(revision)
