"""`InjectedNamespace`: a namespace whose pods join the mesh."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from mesh.attachment import MeshAttachment
from mesh.custom_resource import custom_resource


@dataclass(frozen=True, kw_only=True)
class InjectedNamespaceArgs:
    """`name`: the namespace; `mesh`: the mesh it joins; `default_deny`: refuse every call that no
    app's own policy allows; `layer7`: some app in it has L7 authorization rules."""

    name: str
    mesh: MeshAttachment
    default_deny: bool = False
    layer7: bool = False


class InjectedNamespace(pulumi.ComponentResource):
    """Owns one Namespace labelled and annotated for the mesh, and the mesh objects it needs
    (a default-deny policy, an L7 proxy), as the mesh implementation says.

    The namespace is created only once the control plane is ready, so anything that depends on
    it (a workload) is admitted by a running injector and never starts outside the mesh.
    """

    def __init__(self, name: str, args: InjectedNamespaceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("servicemesh:mesh:InjectedNamespace", name, None, opts)
        metadata = args.mesh.namespace_metadata(args.name, default_deny=args.default_deny)
        self.namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=args.name,
                labels=dict(metadata.labels),
                annotations=dict(metadata.annotations) or None,
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.mesh.control_plane)),
        )
        for manifest in args.mesh.namespace_manifests(args.name, default_deny=args.default_deny, layer7=args.layer7):
            custom_resource(
                f"{name}-{manifest['metadata']['name']}",
                manifest,
                pulumi.ResourceOptions(parent=self, depends_on=[self.namespace]),
            )
        self.name = self.namespace.metadata.name
        self.register_outputs({"name": self.name})
