"""Reading Kubernetes objects and chart values as plain data: a type token and props.

The policy pack, the review and each mesh's footprint reader read what a stack registers with
these; they name no mesh. Under `pulumi preview` the props are read-only mappings and sequences
(the policy SDK wraps them to detect values unknown during preview), under the review and the
tests plain dicts and lists; every accessor here works on both and never assumes a field is
present.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

NAMESPACE = "kubernetes:core/v1:Namespace"
SERVICE = "kubernetes:core/v1:Service"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
STATEFUL_SET = "kubernetes:apps/v1:StatefulSet"
POD_DISRUPTION_BUDGET = "kubernetes:policy/v1:PodDisruptionBudget"

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
_CONTAINER_FIELDS = ("initContainers", "containers")


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


def pod_spec_of(resource_type: str, props: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The pod spec of a workload, or None for any other resource."""
    path = _POD_SPEC_PATHS.get(resource_type)
    return None if path is None else mapping_at(props, *path)


def pod_metadata_of(resource_type: str, props: Mapping[str, Any]) -> Mapping[str, Any]:
    """The metadata of a workload's pods: its pod template's, or a Pod's own."""
    path = _POD_SPEC_PATHS.get(resource_type)
    return {} if path is None else mapping_at(props, *path[:-1], "metadata")


def containers_of(pod_spec: Mapping[str, Any], *, ephemeral: bool = False) -> Iterator[Mapping[str, Any]]:
    """Every container and init container of a pod spec; with `ephemeral`, its ephemeral (debug)
    containers too, which take no resources or ports but still pull an image."""
    for field in (*_CONTAINER_FIELDS, "ephemeralContainers") if ephemeral else _CONTAINER_FIELDS:
        yield from (container for container in items_at(pod_spec, field) if isinstance(container, Mapping))


def type_token_of(manifest: Mapping[str, Any]) -> str:
    """The type token Pulumi gives a Kubernetes manifest: `kubernetes:<group>/<version>:<Kind>`,
    with `core` for the core group (`apiVersion: v1`)."""
    api_version = str(manifest.get("apiVersion") or "")
    group_version = api_version if "/" in api_version else f"core/{api_version}"
    return f"kubernetes:{group_version}:{manifest.get('kind') or ''}"
