"""How the stack treats the cluster it targets, whatever it deploys: it owns every field it
declares (`own_declared_fields`), and on a bare API server it waits for nothing
(`skip_readiness_waits`). `cluster_transform` is the one stack transform the program registers:
each registered transform is a round trip of every resource's properties between the engine and
the program, so the two are applied in one."""

from __future__ import annotations

import pulumi

from target_cluster.api_server_only import skip_readiness_waits
from target_cluster.ownership import own_declared_fields

__all__ = ["cluster_transform", "own_declared_fields", "skip_readiness_waits"]


def cluster_transform(*, api_server_only: bool) -> pulumi.ResourceTransform:
    """The stack transform for the stack's cluster: `own_declared_fields`, then, on a bare API
    server (`cluster.apiServerOnly`), `skip_readiness_waits`."""
    if not api_server_only:
        return own_declared_fields

    def own_fields_and_skip_readiness_waits(
        args: pulumi.ResourceTransformArgs,
    ) -> pulumi.ResourceTransformResult | None:
        owned = own_declared_fields(args)
        if owned is not None:
            args = pulumi.ResourceTransformArgs(args.custom, args.type_, args.name, owned.props, owned.opts)
        return skip_readiness_waits(args) or owned

    return own_fields_and_skip_readiness_waits
