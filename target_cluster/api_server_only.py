"""A stack transform for clusters that are a bare API server (no nodes, no controllers).

Pulumi waits for Deployments, Services and Helm charts to become ready; on a node-less API server
that never happens. This transform tells the kubernetes provider not to wait, for every object and
every chart of the stack. It is switched on only by `cluster.apiServerOnly`, which only the
end-to-end tests' stack files set (a test holds every real stack file to it), so real stacks
keep every readiness wait.
"""

from __future__ import annotations

import pulumi

from mesh.charts import HELM_INSTALL_TYPES

SKIP_AWAIT_ANNOTATION = "pulumi.com/skipAwait"


def skip_readiness_waits(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
    """Annotate Kubernetes objects with `pulumi.com/skipAwait`, and set `skipAwait` on charts."""
    if args.type_ in HELM_INSTALL_TYPES:
        return pulumi.ResourceTransformResult(props={**args.props, "skipAwait": True}, opts=args.opts)
    if not args.type_.startswith("kubernetes:") or not args.custom:
        return None
    metadata = dict(args.props.get("metadata") or {})
    metadata["annotations"] = {**(metadata.get("annotations") or {}), SKIP_AWAIT_ANNOTATION: "true"}
    return pulumi.ResourceTransformResult(props={**args.props, "metadata": metadata}, opts=args.opts)
