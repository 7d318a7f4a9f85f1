"""What a mesh tells the policy pack (`policy/`): its rules over plain resources, and the words the
pack's policies describe them with. The pack walks the registry's `MeshGuardrails` and names no
mesh; each mesh's folder writes its own in `mesh/<provider>/policy.py`.

A resource check takes one resource's type token and props and returns the violation messages
(empty when it complies); a stack check takes every resource of the stack and returns
violations, each naming the resource it is about. Every message says what to change.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from mesh.objects import name_of, namespace_of


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


class PlaintextCheck(Protocol):
    def __call__(
        self, resource_type: str, props: Mapping[str, Any], *, allowed_namespaces: Collection[str]
    ) -> list[str]: ...


def _shows_nothing(resource: Resource) -> bool:
    return False


def _injects_no_image(pod_annotations: Mapping[str, Any], image: str) -> bool:
    return False


@dataclass(frozen=True, kw_only=True)
class MeshGuardrails:
    """One mesh's part of the pack's policies.

    - `mtls_violations`: mTLS is required mesh-wide in this mesh's terms (a stack check, run when the
      stack installs this mesh), given the `mesh-mtls-strict` policy's config; `mtls_config`, the
      properties (JSON schema, with defaults) this mesh adds to that config; `mtls_rule`, the rule in words.
    - `plaintext_violations`: no object outside the allowed namespaces lets a workload accept plaintext;
      `plaintext_rule`, that rule in words, and `plaintext_objects`, what the allowlist lets through.
    - `enrols`: whether a namespace (its props, and its workloads) is enrolled in this mesh;
      `enrolment_choice`, how to enrol one, and `enrolment_mark`, what shows it, in words.
    - `own_namespaces`: where the mesh runs its own workloads by default (exempt from enrolment).
    - `shows_control_plane`: whether a resource other than a Helm install shows that the stack installs
      this mesh (a Helm install shows it by the registry's `control_plane_chart`).
    - `injects_image`: whether a container's image is a placeholder the mesh's injector replaces,
      given its pod's annotations.
    """

    mtls_violations: Callable[[Sequence[Resource], Mapping[str, Any]], list[Violation]]
    mtls_config: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
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


def migration_allowance(namespace: str) -> str:
    """How every plaintext rule's message ends: the way out for a namespace that is migrating."""
    return f"add '{namespace}' to this policy's allowedNamespaces while it migrates"


def describe(resource_type: str, props: Mapping[str, Any]) -> str:
    """`Kind namespace/name`, as a person would look the object up with kubectl."""
    return f"{resource_type.rsplit(':', 1)[-1]} {namespace_of(props)}/{name_of(props)}"
