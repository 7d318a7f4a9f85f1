"""Which fields of which objects are security-relevant when they drift from the stack: the
Kubernetes kinds' own here, each mesh's in its folder (`mesh.<provider>.drift`), merged by the
registry (`mesh.implementations.SECURITY_FIELDS`) for the drift report (`review.drift`)."""

from __future__ import annotations

from collections.abc import Mapping

SecurityFields = Mapping[tuple[str, str], tuple[str, ...]]
"""(API group, kind) → the field paths (`spec.mtls`, `webhooks[*].failurePolicy`) whose drift is a
security finding; a path covers everything below it, and `""` covers the whole object."""

_WEBHOOK_KINDS = ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")
_WEBHOOK_FIELDS = (
    "webhooks[*].failurePolicy",
    "webhooks[*].namespaceSelector",
    "webhooks[*].objectSelector",
    "webhooks[*].rules",
)

CORE_SECURITY_FIELDS: SecurityFields = {
    # Exposure: a Service turned into a NodePort or LoadBalancer, or given outside addresses.
    ("", "Service"): (
        "spec.type",
        "spec.externalIPs",
        "spec.loadBalancerSourceRanges",
        "spec.ports[*].nodePort",
        "spec.externalTrafficPolicy",
    ),
    # Enrolment and Pod Security admission live in a namespace's labels.
    ("", "Namespace"): ("metadata.labels",),
    # A webhook set to `Ignore`, or narrowed by selectors, lets objects past injection or validation.
    **{("admissionregistration.k8s.io", kind): _WEBHOOK_FIELDS for kind in _WEBHOOK_KINDS},
    ("networking.k8s.io", "NetworkPolicy"): ("",),
    ("networking.k8s.io", "Ingress"): ("",),
    ("rbac.authorization.k8s.io", "ClusterRole"): ("rules", "aggregationRule"),
    ("rbac.authorization.k8s.io", "Role"): ("rules",),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"): ("subjects", "roleRef"),
    ("rbac.authorization.k8s.io", "RoleBinding"): ("subjects", "roleRef"),
}


def merged(*tables: SecurityFields) -> dict[tuple[str, str], tuple[str, ...]]:
    """One table of several: a kind in more than one keeps every path."""
    result: dict[tuple[str, str], tuple[str, ...]] = {}
    for table in tables:
        for kind, paths in table.items():
            result[kind] = (*result.get(kind, ()), *paths)
    return result
