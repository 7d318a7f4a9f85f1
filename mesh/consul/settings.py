"""Consul's settings: `mesh.consul.*`."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from mesh.consul.artifacts import CONSUL_CHART_VERSION, HASHICORP_CHART_REPOSITORY
from settings.models import (
    PROVIDER_DESCRIPTION,
    ByteQuantity,
    ChartRepository,
    DnsLabel,
    DnsSubdomain,
    ExactVersion,
    MeshWideSettings,
    ResourceSettings,
    Settings,
    default_resources,
)


class ConsulServerSettings(Settings):
    replicas: int = Field(default=1, ge=1, description="Consul servers (Raft peers): 1, or 3 or 5 for a quorum.")
    storage: ByteQuantity = Field(default="10Gi", description="Each server's data volume.")
    storage_class: DnsSubdomain | None = Field(default=None, description="StorageClass; the cluster default if unset.")
    resources: ResourceSettings = Field(
        default_factory=default_resources("100m", "200Mi", "1000m", "1Gi"),
        description="Consul server resources; both limits required (the chart's own are 100m / 200Mi).",
    )


class ConsulConnectInjectSettings(Settings):
    replicas: int = Field(default=1, ge=1, description="Replicas of the connect-injector (webhook and controllers).")
    resources: ResourceSettings = Field(
        default_factory=default_resources("50m", "200Mi", "500m", "200Mi"),
        description="connect-injector resources; both limits required (the chart's own are 50m / 200Mi).",
    )


class ConsulProxySettings(Settings):
    resources: ResourceSettings = Field(
        default_factory=default_resources("100m", "100Mi", None, "150Mi"),
        description="Injected consul-dataplane (Envoy) sidecar resources.",
    )


class ConsulSettings(Settings):
    chart_version: ExactVersion = Field(default=CONSUL_CHART_VERSION, description="`consul` chart version.")
    chart_repository: ChartRepository = Field(
        default=HASHICORP_CHART_REPOSITORY, description="Where the consul chart comes from."
    )
    namespace: DnsLabel = Field(default="consul", description="Namespace of the Consul servers and controllers.")
    datacenter: DnsLabel = Field(default="dc1", description="Consul datacenter name.")
    server: ConsulServerSettings = Field(default_factory=ConsulServerSettings, description="The Consul servers.")
    connect_inject: ConsulConnectInjectSettings = Field(
        default_factory=ConsulConnectInjectSettings, description="The connect-injector."
    )
    proxy: ConsulProxySettings = Field(default_factory=ConsulProxySettings, description="Injected sidecars.")


class ConsulMeshSettings(MeshWideSettings):
    provider: Literal["consul"] = Field(description=PROVIDER_DESCRIPTION)
    consul: ConsulSettings = Field(default_factory=ConsulSettings, description="Consul (with `provider: consul`).")

    dashboard: ClassVar[str] = "the Consul UI"

    def owned_namespaces(self) -> dict[str, str]:
        return {"mesh.consul.namespace": self.consul.namespace}
