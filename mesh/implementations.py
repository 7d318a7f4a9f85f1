"""The one place that lists the meshes: each `mesh.provider` value with what its folder provides
(`MeshImplementation`). The stack settings take their `mesh` union from here, the loader its rules,
the program its component, the review its footprint and injected images, and the policy pack
its rules."""

from __future__ import annotations

from typing import Annotated, Any, Union

import pulumi
from pydantic import Discriminator, Tag

from mesh.component import InjectedImages, MeshArgs, MeshImplementation, ServiceMesh
from mesh.consul import implementation as consul
from mesh.drift import CORE_SECURITY_FIELDS, SecurityFields, merged
from mesh.footprint import MeshFootprint
from mesh.istio import implementation as istio
from mesh.linkerd import implementation as linkerd
from settings.artifacts import RetiredLocation
from settings.models import MeshWideSettings

REGISTRY: tuple[MeshImplementation, ...] = (istio.IMPLEMENTATION, linkerd.IMPLEMENTATION, consul.IMPLEMENTATION)
"""The meshes; the first is the default when a stack names no `mesh.provider`."""

_BY_PROVIDER = {implementation.provider: implementation for implementation in REGISTRY}
DEFAULT = REGISTRY[0]

IMPLEMENTATIONS: dict[str, type[ServiceMesh]] = {provider: entry.component for provider, entry in _BY_PROVIDER.items()}
FOOTPRINTS: dict[str, MeshFootprint] = {provider: entry.footprint for provider, entry in _BY_PROVIDER.items()}
"""What each mesh's charts and injected sidecars request, read from what a stack registers."""
INJECTED_IMAGES: dict[str, InjectedImages] = {entry.control_plane_chart: entry.injected_images for entry in REGISTRY}
"""The images each mesh adds to the pods it injects, by the chart of its control plane."""
SECURITY_FIELDS: SecurityFields = merged(CORE_SECURITY_FIELDS, *(entry.security_fields for entry in REGISTRY))
"""Every field whose drift outside a stack is a security finding, of the Kubernetes kinds and every mesh's."""
RETIRED_LOCATIONS: tuple[RetiredLocation, ...] = tuple(
    location for entry in REGISTRY for location in entry.retired_locations
)
"""Every location a mesh's artifacts no longer come from: config and the policy pack refuse them."""


def retired_location(reference: str) -> RetiredLocation | None:
    """The retired location a chart source or image reference points into, if any."""
    return next((retired for retired in RETIRED_LOCATIONS if retired.matches(reference)), None)


def provider(value: Any) -> str | None:
    """The `provider` of a `mesh` document or settings object; a document without one is the default's.
    (Named after the key, as pydantic names the discriminator by this function in its errors.)"""
    if isinstance(value, dict):
        return value.get("provider", DEFAULT.provider)
    return getattr(value, "provider", None)


MeshSettings = Annotated[
    Union[tuple(Annotated[entry.settings, Tag(entry.provider)] for entry in REGISTRY)],  # noqa: UP007
    Discriminator(provider),
]
"""`mesh`: the keys every mesh has, and `mesh.<provider>.*` of the one `mesh.provider` selects; a
key of another mesh is unknown to the model."""


def implementation_of(mesh: MeshWideSettings) -> MeshImplementation:
    return _BY_PROVIDER[mesh.provider]


def build_mesh(args: MeshArgs, opts: pulumi.ResourceOptions | None = None) -> ServiceMesh:
    """The mesh component `args.settings.provider` names, under that name (`istio`, `linkerd`, `consul`)."""
    provider = args.settings.provider
    return IMPLEMENTATIONS[provider](provider, args, opts)
