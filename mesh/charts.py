"""How the program installs a Helm chart: the one place that knows chart sources and install modes.

`chart` mode installs with `kubernetes.helm.v4.Chart`, which renders the chart in the provider and
registers every Kubernetes object as its own resource, so `pulumi preview` diffs per object.
`release` mode installs with `kubernetes.helm.v3.Release`, a Helm-native release (`helm ls`,
rollback, three-way merges). Components call `install_chart` and do not care which mode is on.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from settings.models import HelmSettings

# The resource types a chart becomes in each install mode (`chart`, `release`); both take the
# same inputs (chart, version, repositoryOpts, namespace, values).
HELM_RELEASE_TYPE = "kubernetes:helm.sh/v3:Release"
HELM_INSTALL_TYPES = frozenset({"kubernetes:helm.sh/v4:Chart", HELM_RELEASE_TYPE})
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

    def locate(self, chart: str) -> tuple[str, str | None]:
        """The chart reference Helm resolves, and the repository URL to resolve it in (if any)."""
        if self.repository.startswith("oci://"):
            return f"{self.repository}/{chart}", None
        if self.repository.startswith(("https://", "http://")):
            return chart, self.repository
        directory = self.repository.removeprefix("file://")
        # Helm reads `charts/base` as chart `base` of a repository alias `charts`; a path it must see as one.
        if not os.path.isabs(directory) and not directory.startswith("."):
            directory = f"./{directory}"
        return os.path.join(directory, chart), None


def install_chart(
    resource_name: str,
    *,
    source: ChartSource,
    helm: HelmSettings,
    chart: str,
    release_name: str,
    namespace: str,
    values: dict[str, Any],
    opts: pulumi.ResourceOptions,
    keep_crds: bool = False,
    webhook_ca_bundles_patched_at_run_time: bool = False,
) -> pulumi.Resource:
    """Install `chart` from `source` in the stack's install mode.

    `keep_crds`: the chart's CRDs are protected and kept if Pulumi ever deletes them.
    `webhook_ca_bundles_patched_at_run_time`: a server the chart runs writes its own CA into the
    chart's webhook configurations once it starts.
    """
    reference, repository = source.locate(chart)
    if helm.install_mode == "release":
        # Helm's three-way merge keeps what a server patches into live objects, so the webhooks
        # need no special handling here; keeping the CRDs means never uninstalling the release.
        return k8s.helm.v3.Release(
            resource_name,
            k8s.helm.v3.ReleaseArgs(
                name=release_name,
                chart=reference,
                version=source.version,
                repository_opts=k8s.helm.v3.RepositoryOptsArgs(**_repository_options(repository, helm))
                if repository
                else None,
                namespace=namespace,
                values=values,
                atomic=True,
                cleanup_on_fail=True,
                timeout=helm.release_timeout_seconds,
            ),
            opts=pulumi.ResourceOptions.merge(
                opts, pulumi.ResourceOptions(protect=keep_crds or None, retain_on_delete=keep_crds or None)
            ),
        )
    transforms = ([ignore_webhook_ca_bundle_changes] if webhook_ca_bundles_patched_at_run_time else []) + (
        [keep_crds_on_delete] if keep_crds else []
    )
    return k8s.helm.v4.Chart(
        resource_name,
        k8s.helm.v4.ChartArgs(
            name=release_name,
            chart=reference,
            version=source.version,
            repository_opts=k8s.helm.v4.RepositoryOptsArgs(**_repository_options(repository, helm))
            if repository
            else None,
            namespace=namespace,
            values=values,
        ),
        opts=pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(protect=keep_crds or None, transforms=transforms)
        ),
    )


def _repository_options(repository: str, helm: HelmSettings) -> dict[str, Any]:
    """Where Helm resolves the chart, and the repository's login if the stack has one; Helm sends
    it to that repository only, and the password stays a secret in the state."""
    options: dict[str, Any] = {"repo": repository}
    if credentials := helm.credentials_for(repository):
        options["username"] = credentials.username
        options["password"] = pulumi.Output.secret(credentials.password.get_secret_value())
    return options


def ignore_webhook_ca_bundle_changes(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
    """Leave the `caBundle` of a chart's webhook configurations to the server that patches it.

    A webhook server that issues its own certificate patches `webhooks[*].clientConfig.caBundle`
    with its CA at run time. Without this the next `pulumi up` would apply the chart's empty value
    again, breaking the webhooks until the server patches it back.
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
    """Protect a chart's CRDs and keep them in the cluster if Pulumi ever deletes them.

    Deleting a CRD deletes every custom resource of its kind in the cluster, including those
    that other teams created outside this stack.
    """
    if args.type_ != _CRD_TYPE:
        return None
    return pulumi.ResourceTransformResult(
        props=args.props,
        opts=pulumi.ResourceOptions.merge(args.opts, pulumi.ResourceOptions(protect=True, retain_on_delete=True)),
    )
