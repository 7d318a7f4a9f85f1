"""A stack transform that makes the stack the owner of every field it declares.

The kubernetes provider applies objects with server-side apply. When someone changes a field the
stack declares (`kubectl edit`, `kubectl patch`), that field moves to their field manager, and the
provider's next apply of the object, in a refreshed preview or an update, stops with a field
conflict instead of putting the value back: the drift report would end at the first such object,
and `pulumi up --refresh` would fail where it should repair. `pulumi.com/patchForce` makes every
apply take those fields back (as `kubectl apply --server-side --force-conflicts` does).

Only fields the stack declares are taken: a field another controller owns and the stack leaves
out (replicas under an autoscaler, a webhook's `caBundle` that its server patches in) is never
touched, and the charts' values keep those out (e.g. Istio's validation webhook is declared
`Fail`, the value istiod itself sets).
"""

from __future__ import annotations

import pulumi

PATCH_FORCE_ANNOTATION = "pulumi.com/patchForce"


def own_declared_fields(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
    """Annotate every Kubernetes object of the stack, its charts' objects too, with `patchForce`."""
    if not args.type_.startswith("kubernetes:") or not args.custom or "metadata" not in args.props:
        return None
    metadata = dict(args.props.get("metadata") or {})
    metadata["annotations"] = {**(metadata.get("annotations") or {}), PATCH_FORCE_ANNOTATION: "true"}
    return pulumi.ResourceTransformResult(props={**args.props, "metadata": metadata}, opts=args.opts)
