"""What one cluster of a multi-primary mesh declares for the others (`mesh.istio.multiCluster`):
the read-only ServiceAccount their istiod use to read this cluster, its long-lived token, and the
kubeconfig built from them that the stack exports as a secret. The link project (`multicluster/`)
writes that kubeconfig into every other cluster as a remote secret."""

from __future__ import annotations

import base64

import pulumi
import pulumi_kubernetes as k8s
import yaml

from mesh.istio.manifests import REMOTE_READER_NAME, REMOTE_READER_RULES, reader_kubeconfig
from mesh.istio.settings import MultiClusterSettings
from mesh.objects import SERVICE_ACCOUNT_TOKEN

SERVICE_ACCOUNT_NAME_ANNOTATION = "kubernetes.io/service-account.name"
# The stack outputs the link project (`multicluster/`) reads of every cluster stack.
IDENTITY_OUTPUT = "multiCluster"
READER_OUTPUT = "remoteReaderKubeconfig"


def remote_reader_kubeconfig(
    name: str, *, namespace: str, multi_cluster: MultiClusterSettings, opts: pulumi.ResourceOptions
) -> pulumi.Output[str]:
    """Declare the reader ServiceAccount, its ClusterRole and binding and its token Secret in
    `namespace`; return the kubeconfig (YAML, secret) that reads this cluster as that account."""
    service_account = k8s.core.v1.ServiceAccount(
        f"{name}-remote-reader",
        metadata=k8s.meta.v1.ObjectMetaArgs(name=REMOTE_READER_NAME, namespace=namespace),
        # The token is in the Secret below; nothing mounts one into a pod as this account.
        automount_service_account_token=False,
        opts=opts,
    )
    # Cluster-scoped, so named after the namespace too, as the istiod chart names its reader role.
    cluster_role = k8s.rbac.v1.ClusterRole(
        f"{name}-remote-reader",
        metadata=k8s.meta.v1.ObjectMetaArgs(name=f"{REMOTE_READER_NAME}-{namespace}"),
        rules=REMOTE_READER_RULES,
        opts=opts,
    )
    k8s.rbac.v1.ClusterRoleBinding(
        f"{name}-remote-reader",
        metadata=k8s.meta.v1.ObjectMetaArgs(name=f"{REMOTE_READER_NAME}-{namespace}"),
        role_ref=k8s.rbac.v1.RoleRefArgs(
            api_group="rbac.authorization.k8s.io", kind="ClusterRole", name=cluster_role.metadata.name
        ),
        subjects=[k8s.rbac.v1.SubjectArgs(kind="ServiceAccount", name=REMOTE_READER_NAME, namespace=namespace)],
        opts=opts,
    )
    # A long-lived token: istiod of another cluster cannot renew a projected one. The API server's
    # token controller fills in `token` and `ca.crt`; the kubernetes provider waits for them.
    token = k8s.core.v1.Secret(
        f"{name}-remote-reader-token",
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=f"{REMOTE_READER_NAME}-token",
            namespace=namespace,
            annotations={SERVICE_ACCOUNT_NAME_ANNOTATION: REMOTE_READER_NAME},
        ),
        type=SERVICE_ACCOUNT_TOKEN,
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[service_account])),
    )
    return pulumi.Output.secret(
        token.data.apply(
            lambda data: yaml.safe_dump(
                reader_kubeconfig(
                    cluster_name=multi_cluster.cluster_name,
                    server=multi_cluster.api_server,
                    certificate_authority_data=data["ca.crt"],
                    token=base64.b64decode(data["token"]).decode(),
                ),
                sort_keys=False,
            )
        )
    )
