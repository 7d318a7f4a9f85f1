"""The one place that maps `mesh.provider` to the component that implements it."""

from __future__ import annotations

import pulumi

from mesh.component import MeshArgs, ServiceMesh
from mesh.consul.mesh import ConsulMesh
from mesh.istio.mesh import IstioMesh
from mesh.linkerd.mesh import LinkerdMesh

IMPLEMENTATIONS: dict[str, type[ServiceMesh]] = {"istio": IstioMesh, "linkerd": LinkerdMesh, "consul": ConsulMesh}


def build_mesh(args: MeshArgs, opts: pulumi.ResourceOptions | None = None) -> ServiceMesh:
    """The mesh component `args.settings.provider` names, under that name (`istio`, `linkerd`, `consul`)."""
    provider = args.settings.provider
    return IMPLEMENTATIONS[provider](provider, args, opts)
