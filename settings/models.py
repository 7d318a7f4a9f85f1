"""The typed, immutable settings a stack is built from.

Every stack config key under the project namespace maps to one field here. Field descriptions
and defaults are the contract: the README's config reference is generated from them
(`python -m settings.reference`) and a test keeps the two equal.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from settings.quantities import is_quantity, parse_quantity

ISTIO_VERSION = "1.30.3"
UPSTREAM_CHART_REPOSITORY = "https://istio-release.storage.googleapis.com/charts"

_EXACT_VERSION = re.compile(r"^\d+\.\d+\.\d+$")
_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def _exact_version(value: str) -> str:
    if not _EXACT_VERSION.match(value):
        raise ValueError("must be an exact version X.Y.Z (no range, no 'v' prefix), e.g. 1.30.3")
    return value


def _dns1123_label(value: str) -> str:
    if len(value) > 63 or not _DNS1123_LABEL.match(value):
        raise ValueError(
            "must be a DNS-1123 label: at most 63 characters of lower-case letters, digits and '-',"
            " starting and ending with a letter or digit"
        )
    return value


def _quantity(value: str) -> str:
    if not is_quantity(value):
        raise ValueError("must be a Kubernetes quantity such as '100m', '0.5', '128Mi' or '1Gi'")
    return value


def _chart_repository(value: str) -> str:
    if not value.strip():
        raise ValueError(
            "must be an https:// or http:// chart repository URL, an oci:// registry path or a local directory"
        )
    return value.rstrip("/")


ExactVersion = Annotated[str, AfterValidator(_exact_version)]
DnsLabel = Annotated[str, AfterValidator(_dns1123_label)]
Quantity = Annotated[str, AfterValidator(_quantity)]
ChartRepository = Annotated[str, AfterValidator(_chart_repository)]
Environment = Literal["dev", "staging", "prod"]
MtlsMode = Literal["STRICT", "PERMISSIVE"]
ServiceType = Literal["ClusterIP", "NodePort", "LoadBalancer"]


class Settings(BaseModel):
    """Base of every settings object: immutable, strict types, unknown keys rejected."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        strict=True,
        alias_generator=to_camel,
        validate_default=True,
    )


class ComputeQuantities(Settings):
    cpu: Quantity = Field(description="CPU quantity, e.g. `100m`.")
    memory: Quantity = Field(description="Memory quantity, e.g. `128Mi`.")


class OptionalComputeQuantities(Settings):
    cpu: Quantity | None = Field(default=None, description="CPU limit; unset leaves the chart's default.")
    memory: Quantity | None = Field(default=None, description="Memory limit; unset leaves the chart's default.")


class ResourceSettings(Settings):
    requests: ComputeQuantities = Field(description="Resource requests (both cpu and memory required).")
    limits: OptionalComputeQuantities = Field(default_factory=OptionalComputeQuantities, description="Resource limits.")

    def as_manifest(self) -> dict[str, dict[str, str]]:
        """The `resources` block of a container spec."""
        manifest: dict[str, dict[str, str]] = {"requests": self.requests.model_dump()}
        limits = self.limits.model_dump(exclude_none=True)
        if limits:
            manifest["limits"] = limits
        return manifest

    def requests_above_limits(self) -> list[str]:
        """Names of the resources whose request exceeds their limit."""
        return [
            name
            for name in ("cpu", "memory")
            if getattr(self.limits, name) is not None
            and parse_quantity(getattr(self.requests, name)) > parse_quantity(getattr(self.limits, name))
        ]


def _resources(
    cpu: str, memory: str, cpu_limit: str | None = None, memory_limit: str | None = None
) -> Callable[[], ResourceSettings]:
    def build() -> ResourceSettings:
        return ResourceSettings(
            requests=ComputeQuantities(cpu=cpu, memory=memory),
            limits=OptionalComputeQuantities(cpu=cpu_limit, memory=memory_limit),
        )

    return build


class AutoscalingSettings(Settings):
    enabled: bool = Field(default=False, description="Run a HorizontalPodAutoscaler instead of a fixed replica count.")
    min_replicas: int = Field(default=1, ge=1, description="Fewest replicas the autoscaler keeps.")
    max_replicas: int = Field(default=5, ge=1, description="Most replicas the autoscaler runs.")

    @model_validator(mode="after")
    def _min_not_above_max(self) -> AutoscalingSettings:
        if self.min_replicas > self.max_replicas:
            raise ValueError(f"minReplicas ({self.min_replicas}) must not exceed maxReplicas ({self.max_replicas})")
        return self


class ScaledComponentSettings(Settings):
    """Replicas, autoscaling, disruption budget and resources of one Deployment."""

    replicas: int = Field(default=1, ge=1, description="Replica count when autoscaling is off.")
    autoscaling: AutoscalingSettings = Field(default_factory=AutoscalingSettings, description="Autoscaling.")
    pod_disruption_budget: bool = Field(
        default=False,
        description="Keep at least one pod through voluntary disruptions; needs 2 or more replicas.",
    )

    @property
    def min_replicas(self) -> int:
        """The fewest replicas that run at any time."""
        return self.autoscaling.min_replicas if self.autoscaling.enabled else self.replicas


class IstiodSettings(ScaledComponentSettings):
    resources: ResourceSettings = Field(
        default_factory=_resources("500m", "2048Mi"),
        description="istiod container resources (upstream default: requests 500m / 2048Mi).",
    )


class GatewaySettings(ScaledComponentSettings):
    name: DnsLabel = Field(
        default="istio-ingressgateway", description="Helm release name, and so the gateway Service and Deployment name."
    )
    namespace: DnsLabel = Field(default="istio-ingress", description="Namespace of the ingress gateway.")
    service_type: ServiceType = Field(
        default="ClusterIP",
        description="Gateway Service type. `LoadBalancer` waits for an external address, "
        "so keep it off laptop clusters.",
    )
    resources: ResourceSettings = Field(
        default_factory=_resources("100m", "128Mi", "2000m", "1024Mi"),
        description="Gateway proxy resources (upstream default: requests 100m / 128Mi, limits 2000m / 1024Mi).",
    )


class ProxySettings(Settings):
    resources: ResourceSettings = Field(
        default_factory=_resources("100m", "128Mi", "2000m", "1024Mi"),
        description="Injected sidecar resources (upstream default: requests 100m / 128Mi, limits 2000m / 1024Mi).",
    )


class MeshSettings(Settings):
    version: ExactVersion = Field(
        default=ISTIO_VERSION, description="Istio version; one exact version for the base, istiod and gateway charts."
    )
    chart_repository: ChartRepository = Field(
        default=UPSTREAM_CHART_REPOSITORY,
        description="Where the charts come from: an http(s) Helm repository, an `oci://` registry path, "
        "or a local directory holding `base/`, `istiod/` and `gateway/`.",
    )
    namespace: DnsLabel = Field(
        default="istio-system", description="Control-plane namespace; also the mesh root namespace."
    )
    mtls_mode: MtlsMode = Field(
        default="STRICT",
        description="Mesh-wide PeerAuthentication mode. `PERMISSIVE` only while migrating workloads; "
        "prod requires `STRICT`.",
    )
    access_logging: bool = Field(default=False, description="Envoy access logs to the proxies' stdout.")
    protect_crds: bool = Field(
        default=False,
        description="Protect the base chart and keep Istio's CRDs when the stack is destroyed; prod requires `true`.",
    )
    injected_namespaces: tuple[DnsLabel, ...] = Field(
        default=(), description="Extra namespaces the platform enrols in the mesh (labelled for sidecar injection)."
    )
    istiod: IstiodSettings = Field(default_factory=IstiodSettings, description="The istiod control plane.")
    gateway: GatewaySettings = Field(default_factory=GatewaySettings, description="The ingress gateway.")
    proxy: ProxySettings = Field(default_factory=ProxySettings, description="Injected sidecar proxies.")


class StackSettings(Settings):
    environment: Environment = Field(description="Which environment this stack is; prod turns on extra safety checks.")
    mesh: MeshSettings = Field(default_factory=MeshSettings, description="The Istio mesh.")
