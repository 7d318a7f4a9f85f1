"""Consul's part of the policy pack (`mesh.guardrails`): a Mesh entry that forbids permissive mTLS,
no ServiceDefaults or ProxyDefaults that is permissive, workloads enrolled pod by pod, no pod that
opts out or excludes traffic where the others are enrolled, no intention that allows everyone past
the default deny, and the ServiceAccount token injected pods log in with."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from mesh.consul.manifests import CONSUL_API_VERSION, INJECT_ANNOTATION, MESH_ENTRY_NAME, WILDCARD, is_injected
from mesh.consul.settings import ConsulSettings
from mesh.guardrails import (
    MeshGuardrails,
    Resource,
    Violation,
    describe,
    migration_allowance,
    opt_out_violation,
    pod_templates_in,
)
from mesh.objects import group_of, is_kind, items_at, lookup, mapping_at, name_of, namespace_of, pod_metadata_of

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


# Mesh bypasses

TRANSPARENT_PROXY_ANNOTATION = "consul.hashicorp.com/transparent-proxy"
# Annotations that keep ports, addresses or users out of the transparent proxy, whatever they list.
EXCLUSION_ANNOTATIONS = (
    "consul.hashicorp.com/transparent-proxy-exclude-inbound-ports",
    "consul.hashicorp.com/transparent-proxy-exclude-outbound-ports",
    "consul.hashicorp.com/transparent-proxy-exclude-outbound-cidrs",
    "consul.hashicorp.com/transparent-proxy-exclude-uids",
)
ALLOW = "allow"
DENY = "deny"


def bypass_violations(
    resources: Sequence[Resource], *, enrolled_namespaces: Collection[str], config: Mapping[str, Any]
) -> list[Violation]:
    """No pod of an enrolled namespace opts out of injection or of the transparent proxy, or excludes
    ports, addresses or users from it; and, with the mesh-wide `*` → `*` deny, no intention allows every
    service (`*`) to call a destination."""
    violations = [
        opt_out_violation(workload, found, way_back="remove them")
        for workload, _, annotations in pod_templates_in(resources, enrolled_namespaces)
        if (found := _opt_outs(annotations))
    ]
    intentions = [resource for resource in resources if is_kind(resource.type, GROUP, "ServiceIntentions")]
    if any(_is_default_deny(mapping_at(intention.props, "spec")) for intention in intentions):
        violations += [
            Violation(
                f"{describe(intention.type, intention.props)} allows every service ('*') to call "
                f"'{lookup(intention.props, 'spec', 'destination', 'name')}', past the mesh-wide '*' → '*' deny "
                "(servicemesh:authorization.defaultDeny): name the calling services as sources, or remove it",
                intention.urn,
            )
            for intention in intentions
            if any(_allows(source) for source in _wildcard_sources(mapping_at(intention.props, "spec")))
        ]
    return violations


def _opt_outs(annotations: Mapping[str, Any]) -> list[str]:
    found = [
        f"annotation {key}={annotations[key]}"
        for key in (INJECT_ANNOTATION, TRANSPARENT_PROXY_ANNOTATION)
        if str(annotations.get(key, "")).lower() == "false"
    ]
    return found + [
        f"annotation {key}={annotations[key]}"
        for key in EXCLUSION_ANNOTATIONS
        if str(annotations.get(key) or "").strip()
    ]


def _wildcard_sources(spec: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [
        source for source in items_at(spec, "sources") if isinstance(source, Mapping) and source.get("name") == WILDCARD
    ]


def _is_default_deny(spec: Mapping[str, Any]) -> bool:
    return lookup(spec, "destination", "name") == WILDCARD and any(
        source.get("action") == DENY for source in _wildcard_sources(spec)
    )


def _allows(source: Mapping[str, Any]) -> bool:
    """An intention source that allows (as a whole, or by an L7 permission)."""
    return source.get("action") == ALLOW or any(
        lookup(permission, "action") == ALLOW for permission in items_at(source, "permissions")
    )


def needs_service_account_token(pod_annotations: Mapping[str, Any]) -> bool:
    """An injected pod logs in to Consul with its ServiceAccount token."""
    return is_injected(pod_annotations)


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
    bypass_violations=bypass_violations,
    bypass_rule="no Consul opt-out (connect-inject or transparent-proxy false, excluded ports, addresses or users), "
    "and no intention from '*' that allows past the mesh-wide deny",
    enrolment_choice=f"annotate every workload's pod template in it {INJECT_ANNOTATION}=true (Consul)",
    enrolment_mark="Consul's on every workload",
    own_namespaces=(ConsulSettings.model_fields["namespace"].default,),
    shows_control_plane=shows_control_plane,
    needs_service_account_token=needs_service_account_token,
)
