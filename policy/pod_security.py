"""Pod security on every pod template: what a container may do to its node, and which pods carry an
API token.

Every pod template is judged, whatever holds it (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet,
Job, CronJob and their server-side apply patches), and every container in it: containers, init
containers and ephemeral containers. A patch carries only the fields it sets, so in a patch only
what is set is judged; a full object is also judged for what it leaves unset (a seccomp profile, and
`allowPrivilegeEscalation`, which Kubernetes allows unless it is set false).

What a mesh's own workloads need (a CNI agent on the host, an init container that rewrites iptables)
is allowed only as named in that mesh's `pod_security_exemptions`: per object and container, finding
by finding, each with its reason. Nothing is allowed by namespace.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from mesh.guardrails import PodSecurityExemption, Resource, Violation, describe
from mesh.implementations import REGISTRY
from mesh.objects import (
    WORKLOAD_PATCH_TYPES,
    WORKLOAD_TYPES,
    containers_of,
    items_at,
    kind_of,
    lookup,
    mapping_at,
    name_of,
    namespace_of,
    pod_metadata_of,
    pod_spec_of,
)

EXEMPTIONS: tuple[PodSecurityExemption, ...] = tuple(
    exemption for entry in REGISTRY for exemption in entry.policy.pod_security_exemptions
)
# The one capability Pod Security's `restricted` level lets a container add: binding ports below 1024.
HARMLESS_CAPABILITIES = frozenset({"NET_BIND_SERVICE"})
HOST_NAMESPACES = ("hostNetwork", "hostPID", "hostIPC")
CONFINED_SECCOMP_PROFILES = frozenset({"RuntimeDefault", "Localhost"})
TOKEN_FINDING = "automountServiceAccountToken"
SERVICE_ACCOUNT = "kubernetes:core/v1:ServiceAccount"
ROLE_BINDING = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"
CLUSTER_ROLE_BINDING = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"
# Every ServiceAccount, and those of one namespace, as RBAC subjects of kind Group.
ALL_SERVICE_ACCOUNTS_GROUP = "system:serviceaccounts"

# What each finding gives a container, and what to set instead; keyed by the finding's first word.
WHY_AND_FIX = {
    "privileged": ("every device and capability of its node", "securityContext.privileged: false"),
    "allowPrivilegeEscalation": (
        "gains of privilege through setuid binaries (Kubernetes allows them unless told not to)",
        "securityContext.allowPrivilegeEscalation: false",
    ),
    "capabilities.add": ("kernel capabilities beyond an app's", "no securityContext.capabilities.add"),
    "hostNetwork": ("the node's network, outside the mesh", "hostNetwork: false"),
    "hostPID": ("the node's processes", "hostPID: false"),
    "hostIPC": ("the node's shared memory", "hostIPC: false"),
    "hostPath": ("the node's files", "an emptyDir, ConfigMap, Secret or PersistentVolumeClaim volume"),
    "hostPort": ("a port on the node's address, outside the mesh", "no hostPort (a Service reaches the port)"),
    "runAsUser": ("root in its container", "runAsNonRoot: true with a non-zero runAsUser"),
    "runAsNonRoot": ("root in its container", "runAsNonRoot: true"),
    "seccompProfile": ("every system call", "securityContext.seccompProfile.type: RuntimeDefault"),
}


def pod_security_findings(pod_spec: Mapping[str, Any], *, patch: bool) -> list[tuple[str | None, str]]:
    """(container, finding) of everything in a pod spec that reaches beyond the container; the
    container is None for what belongs to the pod (host namespaces and paths, the pod's own
    security context). A `patch` is judged only for what it sets."""
    findings: list[tuple[str | None, str]] = [
        (None, field) for field in HOST_NAMESPACES if lookup(pod_spec, field) is True
    ]
    findings += [
        (None, f"hostPath {lookup(volume, 'hostPath', 'path')}")
        for volume in items_at(pod_spec, "volumes")
        if isinstance(volume, Mapping) and "hostPath" in volume
    ]
    pod_context = mapping_at(pod_spec, "securityContext")
    findings += [(None, finding) for finding in _root_findings(pod_context)]
    pod_seccomp = lookup(pod_context, "seccompProfile", "type")
    if pod_seccomp is not None and pod_seccomp not in CONFINED_SECCOMP_PROFILES:
        findings.append((None, f"seccompProfile {pod_seccomp}"))
    for container in containers_of(pod_spec, ephemeral=True):
        name = str(lookup(container, "name") or "")
        findings += [(name, finding) for finding in _container_findings(container, pod_seccomp, patch=patch)]
    return findings


def _container_findings(container: Mapping[str, Any], pod_seccomp: Any, *, patch: bool) -> Iterable[str]:
    context = mapping_at(container, "securityContext")
    if lookup(context, "privileged") is True:
        yield "privileged"
    escalation = lookup(context, "allowPrivilegeEscalation")
    if escalation is True or (escalation is None and not patch):
        yield "allowPrivilegeEscalation"
    for capability in items_at(context, "capabilities", "add"):
        name = str(capability).upper().removeprefix("CAP_")
        if name not in HARMLESS_CAPABILITIES:
            yield f"capabilities.add {name}"
    for port in items_at(container, "ports"):
        host_port = lookup(port, "hostPort") if isinstance(port, Mapping) else None
        if host_port:
            yield f"hostPort {int(host_port)}"
    yield from _root_findings(context)
    seccomp = lookup(context, "seccompProfile", "type")
    if seccomp is not None and seccomp not in CONFINED_SECCOMP_PROFILES:
        yield f"seccompProfile {seccomp}"
    elif seccomp is None and pod_seccomp is None and not patch:
        yield "seccompProfile unset"


def _root_findings(context: Mapping[str, Any]) -> Iterable[str]:
    # Numbers reach the pack as floats: 0.0 == 0.
    if isinstance(lookup(context, "runAsUser"), int | float) and lookup(context, "runAsUser") == 0:
        yield "runAsUser 0"
    if lookup(context, "runAsNonRoot") is False:
        yield "runAsNonRoot false"


def is_finding(text: str) -> bool:
    """Whether `text` is a finding these rules report (so an exemption naming it can ever apply)."""
    return text == TOKEN_FINDING or text.split(" ", 1)[0] in WHY_AND_FIX


def is_exempt(kind: str, name: str, container: str | None, finding: str) -> bool:
    """Whether a mesh names this finding of this object's container (or pod) among its exemptions."""
    return any(exemption.allows(kind=kind, name=name, container=container, finding=finding) for exemption in EXEMPTIONS)


def pod_security_violations(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """Nothing in a pod template reaches beyond its container (see `pod_security_findings`), but what
    a mesh's exemptions name for that object."""
    pod_spec = pod_spec_of(resource_type, props, patches=True)
    if pod_spec is None:
        return []
    kind, name = kind_of(resource_type), name_of(props)
    by_container: dict[str | None, list[str]] = {}
    for container, finding in pod_security_findings(pod_spec, patch=resource_type in WORKLOAD_PATCH_TYPES):
        if not is_exempt(kind, name, container, finding):
            by_container.setdefault(container, []).append(finding)
    return [
        f"{describe(resource_type, props)}{'' if container is None else f' container {container!r}'}: "
        f"{'; '.join(_explain(finding) for finding in findings)}; or, for a mesh's own component that needs it, "
        "name the object, container and finding with the reason among that mesh's pod security exemptions "
        "(mesh/<provider>/policy.py)"
        for container, findings in by_container.items()
    ]


def _explain(finding: str) -> str:
    why, fix = WHY_AND_FIX[finding.split(" ", 1)[0]]
    return f"{finding} gives it {why}: set {fix}"


def service_account_token_violations(resources: Sequence[Resource]) -> list[Violation]:
    """A pod mounts an API token only when it needs one: its ServiceAccount is bound to a role in the
    stack, or its mesh logs it in with the token, or its mesh names that need among its exemptions.

    A pod mounts the token unless its `automountServiceAccountToken` is false, or it leaves that unset
    and its ServiceAccount sets it false. Patches are left out: what they leave unset is the object's.
    """
    accounts = {
        (namespace_of(item.props), name_of(item.props)): item.props
        for item in resources
        if item.type == SERVICE_ACCOUNT
    }
    bound = _bound_service_accounts(resources)
    violations = []
    for workload in resources:
        if workload.type not in WORKLOAD_TYPES:
            continue
        pod_spec = pod_spec_of(workload.type, workload.props) or {}
        namespace = namespace_of(workload.props)
        account = str(lookup(pod_spec, "serviceAccountName") or lookup(pod_spec, "serviceAccount") or "default")
        mounts = lookup(pod_spec, "automountServiceAccountToken")
        if mounts is None:
            mounts = lookup(accounts.get((namespace, account), {}), "automountServiceAccountToken")
        annotations = mapping_at(pod_metadata_of(workload.type, workload.props), "annotations")
        if (
            mounts is False
            or bound(namespace, account)
            or any(entry.policy.needs_service_account_token(annotations) for entry in REGISTRY)
            or is_exempt(kind_of(workload.type), name_of(workload.props), None, TOKEN_FINDING)
        ):
            continue
        violations.append(
            Violation(
                f"{describe(workload.type, workload.props)} mounts the API token of ServiceAccount '{account}', which "
                "no RoleBinding or ClusterRoleBinding of the stack binds: anyone who breaks into the pod gets a "
                "credential it has no use for; set automountServiceAccountToken: false on the pod (or the "
                "ServiceAccount), or bind the role it needs",
                workload.urn,
            )
        )
    return violations


def _bound_service_accounts(resources: Sequence[Resource]) -> Callable[[str, str], bool]:
    """Whether a (namespace, ServiceAccount) is a subject of a RoleBinding or ClusterRoleBinding of the
    stack, by name or through the `system:serviceaccounts[:<namespace>]` groups."""
    accounts: set[tuple[str, str]] = set()
    groups: set[str] = set()
    for binding in resources:
        if binding.type not in (ROLE_BINDING, CLUSTER_ROLE_BINDING):
            continue
        for subject in items_at(binding.props, "subjects"):
            if not isinstance(subject, Mapping):
                continue
            if subject.get("kind") == "ServiceAccount":
                # A RoleBinding's subject without a namespace is in the binding's own.
                default = namespace_of(binding.props) if binding.type == ROLE_BINDING else ""
                accounts.add((str(subject.get("namespace") or default), str(subject.get("name"))))
            elif subject.get("kind") == "Group":
                groups.add(str(subject.get("name")))

    def bound(namespace: str, account: str) -> bool:
        return (
            (namespace, account) in accounts
            or ALL_SERVICE_ACCOUNTS_GROUP in groups
            or f"{ALL_SERVICE_ACCOUNTS_GROUP}:{namespace}" in groups
        )

    return bound
