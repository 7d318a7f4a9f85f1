"""The link between the cluster stacks of one Istio mesh: each cluster stack exports its identity
(`multiCluster`) and a kubeconfig that reads it (`remoteReaderKubeconfig`, secret); this project
reads both through a StackReference per cluster and writes, into every other cluster, the remote
secret through which that cluster's istiod discovers the first one's endpoints.

Why a third project rather than the cluster stacks reading each other: a cluster stack's first
`up` cannot read a peer that does not exist yet, so the exchange would take a documented number of
`up`s per cluster and a failed peer would block the others. Here each cluster stack stands alone,
and the link is one `up` once they all exist (and is destroyed first)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field, ValidationError

from mesh.istio.manifests import remote_secret_metadata
from mesh.istio.multicluster import IDENTITY_OUTPUT, READER_OUTPUT
from settings.loader import validation_problems
from settings.models import Settings, StackReferenceName
from settings.problems import ConfigError, ConfigProblem

NAMESPACE = "servicemesh-multicluster"


class ClusterLink(Settings):
    stack: StackReferenceName = Field(
        description="The cluster's stack, as a StackReference names it: `<organization>/<project>/<stack>` "
        "(`organization/servicemesh/prod-east` on a self-managed backend).",
    )
    kubeconfig: str | None = Field(
        default=None, description="Path of the kubeconfig that reaches the cluster; the default kubeconfig if unset."
    )
    context: str | None = Field(
        default=None, description="The kubeconfig context of the cluster; its current one if unset."
    )

    @property
    def key(self) -> str:
        """The stack's own name, which names this project's resources for the cluster."""
        return self.stack.rsplit("/", 1)[1]


class LinkSettings(Settings):
    clusters: tuple[ClusterLink, ...] = Field(
        min_length=2, description="The cluster stacks of the mesh, each with how to reach its cluster."
    )


def load_link_settings(raw: Any) -> LinkSettings:
    """The settings from the `clusters` config value; every problem at once, as a `ConfigError`."""
    try:
        settings = LinkSettings.model_validate_json(json.dumps({"clusters": raw}))
    except ValidationError as error:
        raise ConfigError(validation_problems(error, model=LinkSettings, namespace=NAMESPACE)) from None
    problems = [
        ConfigProblem(
            f"{NAMESPACE}:clusters[{index}].stack",
            f"names the same stack as clusters[{keys.index(cluster.key)}] ({cluster.key}); list each cluster once",
            cluster.stack,
        )
        for keys in [[cluster.key for cluster in settings.clusters]]
        for index, cluster in enumerate(settings.clusters)
        if cluster.key in keys[:index]
    ]
    if problems:
        raise ConfigError(problems)
    return settings


@dataclass(frozen=True)
class LinkedCluster:
    key: str
    provider: k8s.Provider
    identity: pulumi.Output[Mapping[str, Any]]
    reader_kubeconfig: pulumi.Output[str]


def one_mesh(identities: Sequence[Mapping[str, Any]], *, keys: Sequence[str]) -> None:
    """Refuse cluster stacks that cannot form one mesh: another mesh ID, or a cluster name taken twice."""
    mesh_ids = {identity["meshId"] for identity in identities}
    if len(mesh_ids) > 1:
        by_stack = ", ".join(f"{key}: {identity['meshId']}" for key, identity in zip(keys, identities, strict=True))
        raise pulumi.RunError(
            f"the cluster stacks are in different meshes ({by_stack}): give every cluster the same "
            "servicemesh:mesh.istio.multiCluster.meshId"
        )
    names = [identity["clusterName"] for identity in identities]
    if len(set(names)) < len(names):
        by_stack = ", ".join(f"{key}: {name}" for key, name in zip(keys, names, strict=True))
        raise pulumi.RunError(
            f"two cluster stacks have the same cluster name ({by_stack}): each cluster's remote secret is named "
            "after it, so give each its own servicemesh:mesh.istio.multiCluster.clusterName"
        )


def link_clusters(settings: LinkSettings) -> dict[str, pulumi.Output[list[str]]]:
    """Write every cluster's remote secret into every other cluster; the remote secrets' names, by cluster stack."""
    clusters = []
    for cluster in settings.clusters:
        reference = pulumi.StackReference(cluster.key, stack_name=cluster.stack)
        clusters.append(
            LinkedCluster(
                key=cluster.key,
                provider=k8s.Provider(cluster.key, kubeconfig=cluster.kubeconfig, context=cluster.context),
                identity=reference.require_output(IDENTITY_OUTPUT),
                reader_kubeconfig=pulumi.Output.secret(reference.require_output(READER_OUTPUT)),
            )
        )
    keys = [cluster.key for cluster in clusters]
    # Every secret waits for the check, so nothing is written for stacks that are not one mesh.
    checked = pulumi.Output.all(*[cluster.identity for cluster in clusters]).apply(
        lambda identities: one_mesh(identities, keys=keys)
    )
    written: dict[str, pulumi.Output[list[str]]] = {}
    for target in clusters:
        secrets = []
        for source in clusters:
            if source is target:
                continue
            metadata = pulumi.Output.all(source.identity, target.identity, checked).apply(
                lambda identities: remote_secret_metadata(
                    cluster_name=identities[0]["clusterName"], namespace=identities[1]["namespace"]
                )
            )
            secret = k8s.core.v1.Secret(
                f"{source.key}-in-{target.key}",
                metadata=metadata,
                string_data=pulumi.Output.all(source.identity, source.reader_kubeconfig).apply(
                    lambda parts: {parts[0]["clusterName"]: parts[1]}
                ),
                opts=pulumi.ResourceOptions(provider=target.provider),
            )
            secrets.append(secret.metadata.name)
        written[target.key] = pulumi.Output.all(*secrets)
    return written
