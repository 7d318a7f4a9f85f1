"""What a mesh tells the policy pack (`policy/`): its rules over plain resources, and the words the
pack's policies describe them with. The pack walks the registry's `MeshGuardrails` and names no
mesh; each mesh's folder writes its own in `mesh/<provider>/policy.py`.

A resource check takes one resource's type token and props and returns the violation messages
(empty when it complies); a stack check takes every resource of the stack and returns
violations, each naming the resource it is about. Every message says what to change.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from mesh.objects import WORKLOAD_PATCH_TYPES, WORKLOAD_TYPES, mapping_at, name_of, namespace_of, pod_metadata_of


@dataclass(frozen=True)
class Resource:
    """A resource as a policy sees it: type token, props (inputs), and the URN to report it by."""

    type: str
    props: Mapping[str, Any]
    urn: str = ""
    name: str = ""


@dataclass(frozen=True)
class Violation:
    """One broken rule; `urn` names the resource at fault, or is None for the stack as a whole."""

    message: str
    urn: str | None = None


@dataclass(frozen=True, kw_only=True)
class PodSecurityExemption:
    """What one of a mesh's own workloads needs that the pod security rules refuse, named per object:
    the workload's `kind` and `name`, its `container` (None for the pod itself: host namespaces,
    volumes, the pod's security context, its token), exactly the findings it may have (`allowed`, in
    the words of `policy.pod_security`: `capabilities.add NET_ADMIN`, `hostPath /var/run/ztunnel`, …) and why."""

    kind: str
    name: str
    container: str | None
    allowed: frozenset[str]
    reason: str

    def allows(self, *, kind: str, name: str, container: str | None, finding: str) -> bool:
        return (kind, name, container) == (self.kind, self.name, self.container) and finding in self.allowed


@dataclass(frozen=True, kw_only=True)
class SystemNamespaceExemption:
    """An object one of a mesh's charts must create in a system namespace (`kube-system`, …), named per
    object (`kind`, `namespace`, `name`), and why."""

    kind: str
    namespace: str
    name: str
    reason: str


class PlaintextCheck(Protocol):
    def __call__(
        self, resource_type: str, props: Mapping[str, Any], *, allowed_namespaces: Collection[str]
    ) -> list[str]: ...


class BypassCheck(Protocol):
    def __call__(
        self, resources: Sequence[Resource], *, enrolled_namespaces: Collection[str], config: Mapping[str, Any]
    ) -> list[Violation]: ...


def _shows_nothing(resource: Resource) -> bool:
    return False


def _injects_no_image(pod_annotations: Mapping[str, Any], image: str) -> bool:
    return False


def _needs_no_token(pod_annotations: Mapping[str, Any]) -> bool:
    return False


def _no_bypasses(
    resources: Sequence[Resource], *, enrolled_namespaces: Collection[str], config: Mapping[str, Any]
) -> list[Violation]:
    return []


def _runs_no_gateway(pod_metadata: Mapping[str, Any], pod_spec: Mapping[str, Any]) -> bool:
    return False


@dataclass(frozen=True, kw_only=True)
class MeshGuardrails:
    """One mesh's part of the pack's policies.

    - `mtls_violations`: mTLS is required mesh-wide in this mesh's terms (a stack check, run when the
      stack installs this mesh), given the `mesh-mtls-strict` policy's config; `mtls_rule`, the rule in words.
    - `policy_config`: the properties (JSON schema, with defaults) this mesh adds to the config of the
      policies that judge a stack in its terms (`mesh-mtls-strict`, `no-mesh-bypass`).
    - `plaintext_violations`: no object outside the allowed namespaces lets a workload accept plaintext;
      `plaintext_rule`, that rule in words, and `plaintext_objects`, what the allowlist lets through.
    - `enrols`: whether a namespace (its props, and its workloads) is enrolled in this mesh;
      `enrolment_choice`, how to enrol one, and `enrolment_mark`, what shows it, in words.
    - `own_namespaces`: where the mesh runs its own workloads by default (exempt from enrolment).
    - `shows_control_plane`: whether a resource other than a Helm install shows that the stack installs
      this mesh (a Helm install shows it by the registry's `control_plane_chart`).
    - `injects_image`: whether a container's image is a placeholder the mesh's injector replaces,
      given its pod's annotations.
    - `pod_security_exemptions`: what the mesh's own workloads need that the pod security rules refuse,
      each named per object with its reason; `needs_service_account_token`, whether the mesh logs a pod
      in with its ServiceAccount token, given its pod's annotations.
    - `bypass_violations`: nothing takes a workload of an enrolled namespace out of the mesh's mTLS or
      authorization (opt-outs, excluded ports, policies that admit everyone past a default deny), given
      the `no-mesh-bypass` policy's config; `bypass_rule`, that rule in words.
    - `system_namespace_exemptions`: the objects the mesh's charts must create in a system namespace,
      each named with its reason.
    - `is_ingress_gateway`: whether a pod (its template's metadata and spec) is the mesh's ingress
      gateway, the one workload a prod stack may expose; `ingress_gateway_chart`, the chart that installs
      it, whose values may expose it; `internal_gateway_classes`, the Gateway API classes of the mesh's
      in-cluster proxies (not entry points).
    """

    mtls_violations: Callable[[Sequence[Resource], Mapping[str, Any]], list[Violation]]
    policy_config: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    mtls_rule: str
    plaintext_violations: PlaintextCheck
    plaintext_rule: str
    plaintext_objects: str
    enrols: Callable[[Mapping[str, Any], Sequence[Resource]], bool]
    enrolment_choice: str
    enrolment_mark: str
    own_namespaces: tuple[str, ...]
    shows_control_plane: Callable[[Resource], bool] = _shows_nothing
    injects_image: Callable[[Mapping[str, Any], str], bool] = _injects_no_image
    pod_security_exemptions: tuple[PodSecurityExemption, ...] = ()
    needs_service_account_token: Callable[[Mapping[str, Any]], bool] = _needs_no_token
    system_namespace_exemptions: tuple[SystemNamespaceExemption, ...] = ()
    bypass_violations: BypassCheck = _no_bypasses
    bypass_rule: str
    is_ingress_gateway: Callable[[Mapping[str, Any], Mapping[str, Any]], bool] = _runs_no_gateway
    ingress_gateway_chart: str | None = None
    internal_gateway_classes: frozenset[str] = frozenset()


def migration_allowance(namespace: str) -> str:
    """How every plaintext rule's message ends: the way out for a namespace that is migrating."""
    return f"add '{namespace}' to this policy's allowedNamespaces while it migrates"


def describe(resource_type: str, props: Mapping[str, Any]) -> str:
    """`Kind namespace/name`, as a person would look the object up with kubectl."""
    return f"{resource_type.rsplit(':', 1)[-1]} {namespace_of(props)}/{name_of(props)}"


def pod_templates_in(
    resources: Sequence[Resource], namespaces: Collection[str]
) -> Iterator[tuple[Resource, Mapping[str, Any], Mapping[str, Any]]]:
    """(workload, pod labels, pod annotations) of every pod template in `namespaces`, patches included."""
    for resource in resources:
        if resource.type in WORKLOAD_TYPES | WORKLOAD_PATCH_TYPES and namespace_of(resource.props) in namespaces:
            metadata = pod_metadata_of(resource.type, resource.props, patches=True)
            yield resource, mapping_at(metadata, "labels"), mapping_at(metadata, "annotations")


def opt_out_violation(workload: Resource, found: Sequence[str], *, way_back: str) -> Violation:
    """A pod template of an enrolled namespace that takes its pods out of the mesh, or part of their traffic."""
    return Violation(
        f"{describe(workload.type, workload.props)} is in an enrolled namespace but its pod template sets "
        f"{', '.join(found)}, which takes its pods, or part of their traffic, out of the mesh's mTLS and "
        f"authorization: {way_back}",
        workload.urn,
    )
