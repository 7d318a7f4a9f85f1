"""The one place that maps `mesh.provider` to the component that implements it and to how its
footprint is read, and a mesh's control-plane chart to what only that mesh knows about it."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pulumi

from mesh.component import MeshArgs, ServiceMesh
from mesh.consul import footprint as consul_footprint
from mesh.consul import images as consul_images
from mesh.consul.mesh import ConsulMesh
from mesh.consul.values import CONTROL_PLANE_CHART as CONSUL_CHART
from mesh.footprint import MeshFootprint
from mesh.istio import footprint as istio_footprint
from mesh.istio import images as istio_images
from mesh.istio.mesh import IstioMesh
from mesh.istio.values import CONTROL_PLANE_CHART as ISTIOD_CHART
from mesh.linkerd import footprint as linkerd_footprint
from mesh.linkerd import images as linkerd_images
from mesh.linkerd.mesh import LinkerdMesh
from mesh.linkerd.values import CONTROL_PLANE_CHART as LINKERD_CONTROL_PLANE_CHART

IMPLEMENTATIONS: dict[str, type[ServiceMesh]] = {"istio": IstioMesh, "linkerd": LinkerdMesh, "consul": ConsulMesh}
FOOTPRINTS: dict[str, MeshFootprint] = {
    "istio": istio_footprint.FOOTPRINT,
    "linkerd": linkerd_footprint.FOOTPRINT,
    "consul": consul_footprint.FOOTPRINT,
}
"""What each mesh's charts and injected sidecars request, read from what a stack registers."""

InjectedImages = Callable[[Iterable[Mapping[str, Any]]], list[str]]
INJECTED_IMAGES: dict[str, InjectedImages] = {
    ISTIOD_CHART: istio_images.injected_images,
    LINKERD_CONTROL_PLANE_CHART: linkerd_images.injected_images,
    CONSUL_CHART: consul_images.injected_images,
}
"""The images each mesh adds to the pods it injects (which no pod template names), by the chart of
its control plane, from that chart's rendered objects."""


def build_mesh(args: MeshArgs, opts: pulumi.ResourceOptions | None = None) -> ServiceMesh:
    """The mesh component `args.settings.provider` names, under that name (`istio`, `linkerd`, `consul`)."""
    provider = args.settings.provider
    return IMPLEMENTATIONS[provider](provider, args, opts)
