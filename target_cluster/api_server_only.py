"""A stack transform for clusters that are a bare API server (no nodes, no controllers).

Pulumi waits for Deployments, Services and Helm charts to become ready; on a node-less API server
that never happens. This transform tells the kubernetes provider not to wait, for every object and
every chart of the stack, and skips the hooks of Helm releases, which are Jobs Helm waits for
(whatever `skipAwait` says) and which never run without a node. It is switched on only by
`cluster.apiServerOnly`, which only the end-to-end tests' stack files set (a test holds every real
stack file to it), so real stacks keep every readiness wait and every hook.
"""

from __future__ import annotations

import pulumi

from mesh.charts import HELM_INSTALL_TYPES, HELM_RELEASE_TYPE
from mesh.objects import SERVICE_ACCOUNT_TOKEN

SKIP_AWAIT_ANNOTATION = "pulumi.com/skipAwait"
# A release waits for every object whatever `skipAwait` says while it is atomic (Helm: `Wait = Wait
# || Atomic`), so it is not atomic here. The kubernetes provider (4.25) skips a release's hooks with
# `disableWebhooks` on install and `disableCRDHooks` on upgrade (it passes each as Helm's
# `DisableHooks`); an uninstall always runs the chart's pre-delete hooks, it has no switch for that.
NODE_LESS_RELEASE = {"atomic": False, "disableWebhooks": True, "disableCRDHooks": True}


def skip_readiness_waits(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
    """Annotate Kubernetes objects with `pulumi.com/skipAwait`, set `skipAwait` on charts, and make
    Helm releases neither wait nor run their hooks."""
    if args.type_ in HELM_INSTALL_TYPES:
        release = NODE_LESS_RELEASE if args.type_ == HELM_RELEASE_TYPE else {}
        return pulumi.ResourceTransformResult(props={**args.props, "skipAwait": True, **release}, opts=args.opts)
    if not args.type_.startswith("kubernetes:") or not args.custom:
        return None
    # A token Secret is filled in by the token controller, which a bare API server's
    # kube-controller-manager runs too: the stack reads the token once the provider saw it.
    if args.props.get("type") == SERVICE_ACCOUNT_TOKEN:
        return None
    metadata = dict(args.props.get("metadata") or {})
    annotations = metadata.get("annotations") or {}
    # A chart's objects come annotated by the chart's own `skipAwait`: answering None leaves their
    # properties out of the reply, which the engine would otherwise marshal and log once more.
    if annotations.get(SKIP_AWAIT_ANNOTATION) == "true":
        return None
    metadata["annotations"] = {**annotations, SKIP_AWAIT_ANNOTATION: "true"}
    return pulumi.ResourceTransformResult(props={**args.props, "metadata": metadata}, opts=args.opts)
