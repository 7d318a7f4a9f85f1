"""Consul's part of the policy pack (`mesh.guardrails`): a Mesh entry that forbids permissive mTLS,
no ServiceDefaults or ProxyDefaults that is permissive, and workloads enrolled pod by pod."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from mesh.consul.manifests import CONSUL_API_VERSION, INJECT_ANNOTATION, MESH_ENTRY_NAME, is_injected
from mesh.consul.settings import ConsulSettings
from mesh.guardrails import MeshGuardrails, Resource, Violation, migration_allowance
from mesh.objects import group_of, is_kind, lookup, mapping_at, name_of, namespace_of, pod_metadata_of

GROUP = CONSUL_API_VERSION.split("/")[0]
STRICT_MTLS_MODE = "strict"


def mtls_violations(resources: Sequence[Resource], config: Mapping[str, Any]) -> list[Violation]:
    """The stack declares the `Mesh` config entry and it forbids permissive mTLS
    (`allowEnablingPermissiveMutualTLS` false or unset), and a `ProxyDefaults` that sets
    `mutualTLSMode` sets it `strict`."""
    entries = [resource for resource in resources if is_kind(resource.type, GROUP, "Mesh")]
    if not entries:
        # Consul keeps one Mesh entry per cluster: declaring it is what keeps anyone else's from allowing it.
        return [
            Violation(
                f"no Consul Mesh config entry: add a Mesh ({CONSUL_API_VERSION}) named '{MESH_ENTRY_NAME}' in "
                "Consul's namespace with spec.allowEnablingPermissiveMutualTLS false, so no service or proxy can "
                "be switched to permissive mTLS (servicemesh:mesh.mtlsMode STRICT)"
            )
        ]
    violations = [
        Violation(
            f"the Consul Mesh entry '{name_of(entry.props)}' sets spec.allowEnablingPermissiveMutualTLS true, so a "
            "ServiceDefaults or ProxyDefaults may make proxies accept plaintext; set it to false "
            "(servicemesh:mesh.mtlsMode STRICT)",
            entry.urn,
        )
        for entry in entries
        if lookup(entry.props, "spec", "allowEnablingPermissiveMutualTLS") is True
    ]
    violations += [
        Violation(
            f"the Consul ProxyDefaults '{name_of(entry.props)}' sets spec.mutualTLSMode "
            f"{lookup(entry.props, 'spec', 'mutualTLSMode')}, so every proxy accepts plaintext; set it to "
            f"{STRICT_MTLS_MODE} (servicemesh:mesh.mtlsMode STRICT)",
            entry.urn,
        )
        for entry in resources
        if is_kind(entry.type, GROUP, "ProxyDefaults") and not _is_strict_mode(entry.props)
    ]
    return violations


def _is_strict_mode(props: Mapping[str, Any]) -> bool:
    """Whether a ServiceDefaults or ProxyDefaults leaves `mutualTLSMode` unset (strict) or sets it strict."""
    mode = lookup(props, "spec", "mutualTLSMode")
    return not mode or str(mode).lower() == STRICT_MTLS_MODE


def mtls_mode_violations(
    resource_type: str, props: Mapping[str, Any], *, allowed_namespaces: Collection[str]
) -> list[str]:
    """No ServiceDefaults or ProxyDefaults outside the allowlist sets `mutualTLSMode` to anything but
    strict (`permissive` accepts plaintext on the service port)."""
    kind = resource_type.rsplit(":", 1)[-1]
    if group_of(resource_type) != GROUP or kind not in ("ServiceDefaults", "ProxyDefaults"):
        return []
    namespace = namespace_of(props)
    if _is_strict_mode(props) or namespace in allowed_namespaces:
        return []
    return [
        f"{kind} '{name_of(props)}' in namespace '{namespace}' sets spec.mutualTLSMode "
        f"{lookup(props, 'spec', 'mutualTLSMode')}, which accepts plaintext; use {STRICT_MTLS_MODE} (or "
        f"remove it to inherit), or {migration_allowance(namespace)}"
    ]


def enrols(namespace_props: Mapping[str, Any], workloads: Sequence[Resource]) -> bool:
    """Consul enrols pod by pod: a namespace is in when every workload's pods are annotated for injection."""
    return bool(workloads) and all(
        is_injected(mapping_at(pod_metadata_of(workload.type, workload.props), "annotations")) for workload in workloads
    )


def shows_control_plane(resource: Resource) -> bool:
    """Consul's config entries are custom resources the stack declares itself, so they show Consul
    whether or not its chart's inputs are visible."""
    return group_of(resource.type) == GROUP


GUARDRAILS = MeshGuardrails(
    mtls_violations=mtls_violations,
    mtls_rule="Consul's Mesh entry forbids permissive mTLS and its ProxyDefaults is strict",
    plaintext_violations=mtls_mode_violations,
    plaintext_rule="no Consul ServiceDefaults or ProxyDefaults is permissive",
    plaintext_objects="Consul ServiceDefaults and ProxyDefaults (mutualTLSMode permissive)",
    enrols=enrols,
    enrolment_choice=f"annotate every workload's pod template in it {INJECT_ANNOTATION}=true (Consul)",
    enrolment_mark="Consul's on every workload",
    own_namespaces=(ConsulSettings.model_fields["namespace"].default,),
    shows_control_plane=shows_control_plane,
)
