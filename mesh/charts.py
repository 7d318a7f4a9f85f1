"""How the program installs a Helm chart: the one place that knows chart sources and options.

Charts are installed with `kubernetes.helm.v4.Chart`, which renders the chart in the provider and
registers every Kubernetes object as its own resource, so `pulumi preview` diffs per object.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

_WEBHOOK_CONFIGURATION_TYPES = frozenset(
    {
        "kubernetes:admissionregistration.k8s.io/v1:ValidatingWebhookConfiguration",
        "kubernetes:admissionregistration.k8s.io/v1:MutatingWebhookConfiguration",
    }
)
_CRD_TYPE = "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition"


@dataclass(frozen=True, kw_only=True)
class ChartSource:
    """Where a set of charts comes from, at one exact version.

    `repository` is an http(s) Helm repository URL, an `oci://` registry path, or a local
    directory (absolute, or relative to the project) holding one folder per chart.
    """

    repository: str
    version: str

    def chart_args(self, chart: str) -> dict[str, Any]:
        """The `chart`, `version` and `repository_opts` arguments of `helm.v4.Chart` for `chart`."""
        if self.repository.startswith("oci://"):
            return {"chart": f"{self.repository}/{chart}", "version": self.version}
        if self.repository.startswith(("https://", "http://")):
            return {
                "chart": chart,
                "version": self.version,
                "repository_opts": k8s.helm.v4.RepositoryOptsArgs(repo=self.repository),
            }
        directory = self.repository.removeprefix("file://")
        return {"chart": os.path.join(directory, chart), "version": self.version}


def install_chart(
    resource_name: str,
    *,
    source: ChartSource,
    chart: str,
    release_name: str,
    namespace: str,
    values: dict[str, Any],
    opts: pulumi.ResourceOptions,
) -> k8s.helm.v4.Chart:
    """Install `chart` from `source` as per-object Kubernetes resources."""
    return k8s.helm.v4.Chart(
        resource_name,
        k8s.helm.v4.ChartArgs(
            name=release_name,
            namespace=namespace,
            values=values,
            **source.chart_args(chart),
        ),
        opts=opts,
    )


def leave_webhook_ca_bundle_to_istiod(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
    """Let istiod own the `caBundle` of the webhooks it serves.

    istiod patches `webhooks[*].clientConfig.caBundle` with its own CA at run time. Without this
    the next `pulumi up` would apply the chart's empty value again, breaking injection and
    validation until istiod patches it back. (The other field istiod used to flip,
    `failurePolicy`, is pinned to `Fail` through the istiod values instead.)
    """
    if args.type_ not in _WEBHOOK_CONFIGURATION_TYPES:
        return None
    return pulumi.ResourceTransformResult(
        props=args.props,
        opts=pulumi.ResourceOptions.merge(
            args.opts, pulumi.ResourceOptions(ignore_changes=["webhooks[*].clientConfig.caBundle"])
        ),
    )


def keep_crds_on_delete(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
    """Protect Istio's CRDs and keep them in the cluster if Pulumi ever deletes them.

    Deleting a CRD deletes every custom resource of its kind in the cluster, including those
    that other teams created outside this stack.
    """
    if args.type_ != _CRD_TYPE:
        return None
    return pulumi.ResourceTransformResult(
        props=args.props,
        opts=pulumi.ResourceOptions.merge(args.opts, pulumi.ResourceOptions(protect=True, retain_on_delete=True)),
    )
