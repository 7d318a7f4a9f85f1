"""`InjectedNamespace`: a namespace whose pods join the mesh."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from mesh.attachment import MeshAttachment
from mesh.custom_resource import custom_resource
from mesh.manifests import allow_nothing_policy


@dataclass(frozen=True, kw_only=True)
class InjectedNamespaceArgs:
    """`name`: the namespace; `mesh`: the mesh it joins; `default_deny`: add an `allow-nothing`
    AuthorizationPolicy so that only traffic an app's own policy allows gets through."""

    name: str
    mesh: MeshAttachment
    default_deny: bool = False


class InjectedNamespace(pulumi.ComponentResource):
    """Owns one Namespace labelled for the mesh, and its optional default-deny policy.

    The namespace is created only once the control plane is ready, so anything that depends on
    it (a workload) is admitted by a running sidecar injector and never starts without its proxy.
    """

    def __init__(self, name: str, args: InjectedNamespaceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("servicemesh:mesh:InjectedNamespace", name, None, opts)
        self.namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=args.name, labels=args.mesh.namespace_labels(args.name)),
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.mesh.control_plane)),
        )
        if args.default_deny:
            custom_resource(
                f"{name}-allow-nothing",
                allow_nothing_policy(namespace=args.name),
                pulumi.ResourceOptions(parent=self, depends_on=[self.namespace]),
            )
        self.name = self.namespace.metadata.name
        self.register_outputs({"name": self.name})
