"""`ServiceMesh`: what every mesh implementation's component offers the program, and `MeshArgs`,
the one set of inputs they all take."""

from __future__ import annotations

import typing
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi_kubernetes as k8s

from mesh.attachment import MeshAttachment, TelemetryBackends
from mesh.drift import SecurityFields
from mesh.footprint import MeshFootprint
from mesh.guardrails import MeshGuardrails
from settings.artifacts import Artifact, RetiredLocation
from settings.models import HelmSettings, MeshWideSettings
from settings.problems import ConfigProblem

if TYPE_CHECKING:
    from settings.stack import StackSettings


@dataclass(frozen=True, kw_only=True)
class MeshArgs:
    """`settings`: the validated mesh settings; `helm`: how charts are installed;
    `enrolled_namespaces`: the namespaces that will join the mesh; `telemetry`: where the add-ons
    answer (for tracing and dashboards); `default_deny`: whether workloads refuse
    callers no policy allows (for meshes that set this mesh-wide)."""

    settings: MeshWideSettings
    helm: HelmSettings
    enrolled_namespaces: Sequence[str] = ()
    telemetry: TelemetryBackends
    default_deny: bool = False


class ServiceMesh(pulumi.ComponentResource):
    """Base of the mesh components: each installs its control plane, enforces mTLS mesh-wide, and
    sets the attributes below before `register_outputs`."""

    attachment: MeshAttachment
    """How namespaces, workloads and add-ons join this mesh."""
    exports: dict[str, Any]
    """Stack outputs that describe this mesh, by output name."""
    certificate_expiry: Mapping[str, pulumi.Input[str]] = MappingProxyType({})
    """When each CA and certificate the stack makes for this mesh expires (RFC 3339), by a name that
    says which; the program warns of those that expire soon (`mesh.certificateWarningDays`)."""

    def _namespace(
        self,
        resource_name: str,
        namespace: str,
        *,
        labels: dict[str, str] | None = None,
        annotations: dict[str, str] | None = None,
    ) -> k8s.core.v1.Namespace:
        return k8s.core.v1.Namespace(
            resource_name,
            metadata=k8s.meta.v1.ObjectMetaArgs(name=namespace, labels=labels, annotations=annotations),
            opts=pulumi.ResourceOptions(parent=self),
        )


InjectedImages = Callable[[Iterable[Mapping[str, Any]]], list[str]]


@dataclass(frozen=True, kw_only=True)
class MeshImplementation:
    """One mesh, as its folder provides it: `settings`, its `mesh.*` keys (with a `provider` literal);
    `rules`, its checks across keys, and for the shared ones the ports and names it takes in an
    app's pod and namespace; `component`, what installs it; `footprint`, how its requests
    are read from what a stack registers; `control_plane_chart` and `injected_images`, the images it
    adds to the pods it injects (which no pod template names), from that chart's rendered objects
    (the chart also shows the policy pack that a stack installs this mesh); `policy`, its part of
    the policy pack; `security_fields`, the fields of its objects whose drift outside the stack is
    a security finding; `outputs`, what each stack output in the component's `exports` says (for
    docs/outputs.md)."""

    settings: type[MeshWideSettings]
    rules: Callable[[StackSettings], Iterator[ConfigProblem]]
    reserved_ports: Mapping[int, str]
    """The ports the mesh's proxies listen on inside an app's pod, each with what listens there: an
    app serving on one would never see its traffic."""
    workload_name_suffixes: tuple[str, ...]
    """What the mesh appends to a workload's name (`<name>-<suffix>`) to name objects it adds beside it."""
    namespace_object_names: frozenset[str]
    """The names of the objects the mesh may add to an enrolled namespace."""
    component: type[ServiceMesh]
    footprint: MeshFootprint
    control_plane_chart: str
    injected_images: InjectedImages
    policy: MeshGuardrails
    security_fields: SecurityFields
    outputs: Mapping[str, str]
    artifacts: tuple[Artifact, ...]
    artifact_notes: tuple[str, ...] = ()
    retired_locations: tuple[RetiredLocation, ...] = ()

    @property
    def provider(self) -> str:
        """The `mesh.provider` value that selects this mesh, from its settings' literal."""
        (provider,) = typing.get_args(self.settings.model_fields["provider"].annotation)
        return provider
