"""Reading Kubernetes objects and chart values as plain data: a type token and props.

The policy pack, the review and each mesh's footprint reader read what a stack registers with
these; they name no mesh. Under `pulumi preview` the props are read-only mappings and sequences
(the policy SDK wraps them to detect values unknown during preview), under the review and the
tests plain dicts and lists; every accessor here works on both and never assumes a field is
present.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from typing import Any

NAMESPACE = "kubernetes:core/v1:Namespace"
SERVICE = "kubernetes:core/v1:Service"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
STATEFUL_SET = "kubernetes:apps/v1:StatefulSet"
POD_DISRUPTION_BUDGET = "kubernetes:policy/v1:PodDisruptionBudget"
SECRET = "kubernetes:core/v1:Secret"
# A Secret of this `type` gets a long-lived token of the ServiceAccount it names from the API
# server's token controller, which the kubernetes provider waits for.
SERVICE_ACCOUNT_TOKEN = "kubernetes.io/service-account-token"

# Kubernetes puts a namespaced object without `metadata.namespace` into the client's default
# namespace, which is `default` unless the provider is configured otherwise.
DEFAULT_NAMESPACE = "default"

_POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    DEPLOYMENT: ("spec", "template", "spec"),
    STATEFUL_SET: ("spec", "template", "spec"),
    "kubernetes:apps/v1:DaemonSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:ReplicaSet": ("spec", "template", "spec"),
    "kubernetes:batch/v1:Job": ("spec", "template", "spec"),
    "kubernetes:batch/v1:CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
    "kubernetes:core/v1:Pod": ("spec",),
}
WORKLOAD_TYPES = frozenset(_POD_SPEC_PATHS)
"""Resource types that run containers: the kinds whose pod spec the workload policies read."""
# Server-side apply patches of those kinds (`DeploymentPatch`, …): a patch carries only the fields it
# sets, and whatever pod spec it carries ends up in the object it patches.
_PATCH_SUFFIX = "Patch"
WORKLOAD_PATCH_TYPES = frozenset(f"{workload_type}{_PATCH_SUFFIX}" for workload_type in WORKLOAD_TYPES)
_CONTAINER_FIELDS = ("initContainers", "containers")
EPHEMERAL_CONTAINERS = "ephemeralContainers"

# What the Kubernetes provider installs or reads as a bundle of objects, not one object itself.
NON_OBJECT_GROUPS = frozenset({"helm.sh", "yaml", "kustomize"})
# Kinds that live outside any namespace, by API group (`core` for the core group): what Kubernetes
# itself and the Gateway API serve. A custom resource's scope is in its CustomResourceDefinition.
CLUSTER_SCOPED_KINDS = frozenset(
    {
        ("core", "Namespace"),
        ("core", "Node"),
        ("core", "PersistentVolume"),
        ("rbac.authorization.k8s.io", "ClusterRole"),
        ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
        ("apiextensions.k8s.io", "CustomResourceDefinition"),
        ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
        ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding"),
        ("admissionregistration.k8s.io", "MutatingAdmissionPolicy"),
        ("admissionregistration.k8s.io", "MutatingAdmissionPolicyBinding"),
        ("apiregistration.k8s.io", "APIService"),
        ("scheduling.k8s.io", "PriorityClass"),
        ("storage.k8s.io", "StorageClass"),
        ("storage.k8s.io", "CSIDriver"),
        ("storage.k8s.io", "CSINode"),
        ("storage.k8s.io", "VolumeAttachment"),
        ("networking.k8s.io", "IngressClass"),
        ("node.k8s.io", "RuntimeClass"),
        ("flowcontrol.apiserver.k8s.io", "FlowSchema"),
        ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"),
        ("certificates.k8s.io", "CertificateSigningRequest"),
        ("gateway.networking.k8s.io", "GatewayClass"),
    }
)


def lookup(props: Mapping[str, Any], *path: str) -> Any:
    """The value at `path` in nested mappings, or None where any part is missing."""
    node: Any = props
    for key in path:
        if not isinstance(node, Mapping) or key not in node:
            return None
        node = node[key]
    return node


def mapping_at(props: Mapping[str, Any], *path: str) -> Mapping[str, Any]:
    """The mapping at `path`, or an empty one."""
    value = lookup(props, *path)
    return value if isinstance(value, Mapping) else {}


def items_at(props: Mapping[str, Any], *path: str) -> list[Any]:
    """The list at `path`, or an empty one."""
    value = lookup(props, *path)
    return list(value) if isinstance(value, Sequence) and not isinstance(value, str) else []


def name_of(props: Mapping[str, Any]) -> str:
    return str(lookup(props, "metadata", "name") or "")


def namespace_of(props: Mapping[str, Any]) -> str:
    return str(lookup(props, "metadata", "namespace") or DEFAULT_NAMESPACE)


def labels_of(props: Mapping[str, Any]) -> Mapping[str, Any]:
    return mapping_at(props, "metadata", "labels")


def annotations_of(props: Mapping[str, Any]) -> Mapping[str, Any]:
    return mapping_at(props, "metadata", "annotations")


def replicas_of(props: Mapping[str, Any]) -> int:
    """A Deployment's or StatefulSet's `spec.replicas`, or Kubernetes' default of 1."""
    # Numbers reach the pack through protobuf Struct values, and the review through the engine's
    # wire format, as floats.
    replicas = lookup(props, "spec", "replicas")
    return int(replicas) if isinstance(replicas, int | float) else 1


def group_of(resource_type: str) -> str | None:
    """The API group of a type token `kubernetes:<group>/<version>:<Kind>` (`core` for the core group), or
    None for anything that is not a Kubernetes object."""
    package, _, rest = resource_type.partition(":")
    return rest.split("/")[0] if package == "kubernetes" and "/" in rest else None


def is_kind(resource_type: str, group: str, kind: str) -> bool:
    """Whether a type token `kubernetes:<group>/<version>:<Kind>` is `kind` of `group`, any version."""
    return group_of(resource_type) == group and resource_type.rsplit(":", 1)[-1] == kind


def chart_name(chart: str) -> str:
    """A Helm chart's name whatever its source: `istiod`, `oci://…/istiod` and `/srv/charts/istiod`."""
    return chart.rstrip("/").rsplit("/", 1)[-1]


def _pod_spec_path(resource_type: str, *, patches: bool) -> tuple[str, ...] | None:
    if patches and resource_type in WORKLOAD_PATCH_TYPES:
        resource_type = resource_type.removesuffix(_PATCH_SUFFIX)
    return _POD_SPEC_PATHS.get(resource_type)


def pod_spec_of(resource_type: str, props: Mapping[str, Any], *, patches: bool = False) -> Mapping[str, Any] | None:
    """The pod spec of a workload (with `patches`, of a workload's patch too), or None for any other resource."""
    path = _pod_spec_path(resource_type, patches=patches)
    return None if path is None else mapping_at(props, *path)


def pod_metadata_of(resource_type: str, props: Mapping[str, Any], *, patches: bool = False) -> Mapping[str, Any]:
    """The metadata of a workload's pods: its pod template's, or a Pod's own (with `patches`, a patch's too)."""
    path = _pod_spec_path(resource_type, patches=patches)
    return {} if path is None else mapping_at(props, *path[:-1], "metadata")


def containers_of(pod_spec: Mapping[str, Any], *, ephemeral: bool = False) -> Iterator[Mapping[str, Any]]:
    """Every container and init container of a pod spec; with `ephemeral`, its ephemeral (debug)
    containers too, which take no resources or ports but still pull an image."""
    for field in (*_CONTAINER_FIELDS, EPHEMERAL_CONTAINERS) if ephemeral else _CONTAINER_FIELDS:
        yield from (container for container in items_at(pod_spec, field) if isinstance(container, Mapping))


def kind_of(resource_type: str) -> str:
    """The kind of a type token `kubernetes:<group>/<version>:<Kind>`."""
    return resource_type.rsplit(":", 1)[-1]


def custom_cluster_scoped_kinds(crds: Iterable[Mapping[str, Any]]) -> frozenset[tuple[str, str]]:
    """(group, kind) of each custom resource that one of these CustomResourceDefinitions declares
    cluster-scoped (`spec.scope: Cluster`)."""
    return frozenset(
        (str(lookup(crd, "spec", "group")), str(lookup(crd, "spec", "names", "kind")))
        for crd in crds
        if lookup(crd, "spec", "scope") == "Cluster"
    )


def is_namespaced(resource_type: str, *, custom_cluster_scoped: Collection[tuple[str, str]] = ()) -> bool:
    """Whether a Kubernetes object of this type token lives in a namespace (a patch of a kind as
    that kind); False for anything that is not a Kubernetes object."""
    group = group_of(resource_type)
    if group is None or group in NON_OBJECT_GROUPS:
        return False
    kind = kind_of(resource_type).removesuffix(_PATCH_SUFFIX)
    return (group, kind) not in CLUSTER_SCOPED_KINDS and (group, kind) not in custom_cluster_scoped


def type_token_of(manifest: Mapping[str, Any]) -> str:
    """The type token Pulumi gives a Kubernetes manifest: `kubernetes:<group>/<version>:<Kind>`,
    with `core` for the core group (`apiVersion: v1`)."""
    api_version = str(manifest.get("apiVersion") or "")
    group_version = api_version if "/" in api_version else f"core/{api_version}"
    return f"kubernetes:{group_version}:{manifest.get('kind') or ''}"
