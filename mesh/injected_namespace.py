"""`InjectedNamespace`: a namespace whose pods join the mesh."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s


@dataclass(frozen=True, kw_only=True)
class InjectedNamespaceArgs:
    """`name`: the namespace; `injection_labels`: the mesh's labels (from `IstioMesh`);
    `control_plane`: what must be ready before pods are created in it (from `IstioMesh`);
    `labels`: any further labels."""

    name: str
    injection_labels: Mapping[str, str]
    control_plane: Sequence[pulumi.Resource]
    labels: Mapping[str, str] = field(default_factory=dict)


class InjectedNamespace(pulumi.ComponentResource):
    """Owns one Namespace labelled for the mesh.

    The namespace is created only once the control plane is ready, so anything that depends on
    it (a workload) is admitted by a running sidecar injector and never starts without its proxy.
    """

    namespace: k8s.core.v1.Namespace

    def __init__(self, name: str, args: InjectedNamespaceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("servicemesh:mesh:InjectedNamespace", name, None, opts)
        self.namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=args.name,
                labels={**args.labels, **args.injection_labels},
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.control_plane)),
        )
        self.name = self.namespace.metadata.name
        self.register_outputs({"name": self.name})
