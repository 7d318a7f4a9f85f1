"""Istio's part of the policy pack (`mesh.guardrails`): one STRICT mesh-wide PeerAuthentication,
no PeerAuthentication that accepts plaintext, namespaces enrolled by label, and the gateway's
injected image."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from mesh.guardrails import MeshGuardrails, Resource, Violation, migration_allowance
from mesh.istio.manifests import (
    AMBIENT_DATAPLANE_MODE,
    DATAPLANE_MODE_LABEL,
    REVISION_LABEL,
    SIDECAR_INJECTION_LABEL,
    is_injected,
    is_peer_authentication,
)
from mesh.istio.settings import GatewaySettings, IstioSettings
from mesh.objects import labels_of, lookup, mapping_at, name_of, namespace_of

ROOT_NAMESPACE = IstioSettings.model_fields["namespace"].default
GATEWAY_NAMESPACE = GatewaySettings.model_fields["namespace"].default
# The gateway chart's pods start with `image: auto`; the injector's `gateway` template (named
# by this pod annotation) replaces it with the proxy image of the istiod that injects it.
INJECTION_TEMPLATE_ANNOTATION = "inject.istio.io/templates"
INJECTED_IMAGE_PLACEHOLDER = "auto"
WEAK_MTLS_MODES = frozenset({"PERMISSIVE", "DISABLE"})


def mtls_violations(resources: Sequence[Resource], config: Mapping[str, Any]) -> list[Violation]:
    """Exactly one mesh-wide PeerAuthentication (in the root namespace `config["rootNamespace"]`, no
    selector), and it is STRICT."""
    root_namespace = config["rootNamespace"]
    mesh_wide = [
        resource
        for resource in resources
        if is_peer_authentication(resource.type)
        and namespace_of(resource.props) == root_namespace
        and not mapping_at(resource.props, "spec", "selector")
    ]
    if not mesh_wide:
        return [
            Violation(
                f"no mesh-wide PeerAuthentication: add one without a selector in the root namespace "
                f"'{root_namespace}' with spec.mtls.mode STRICT (or set this policy's rootNamespace to the "
                "mesh's root namespace)"
            )
        ]
    if len(mesh_wide) > 1:
        names = ", ".join(sorted(name_of(resource.props) for resource in mesh_wide))
        return [
            Violation(
                f"{len(mesh_wide)} mesh-wide PeerAuthentications in '{root_namespace}' ({names}): Istio applies only "
                "the oldest, so which mode holds depends on creation order; keep exactly one, STRICT",
                resource.urn,
            )
            for resource in mesh_wide
        ]
    (policy,) = mesh_wide
    mode = lookup(policy.props, "spec", "mtls", "mode") or "UNSET"
    if mode != "STRICT":
        return [
            Violation(
                f"the mesh-wide PeerAuthentication '{name_of(policy.props)}' has mtls mode {mode}, so workloads "
                "accept plaintext; set spec.mtls.mode to STRICT (servicemesh:mesh.mtlsMode)",
                policy.urn,
            )
        ]
    return []


def peer_authentication_mode_violations(
    resource_type: str, props: Mapping[str, Any], *, allowed_namespaces: Collection[str]
) -> list[str]:
    """No PeerAuthentication weakens mTLS (DISABLE or PERMISSIVE, also per port) outside the allowlist."""
    if not is_peer_authentication(resource_type):
        return []
    namespace = namespace_of(props)
    if namespace in allowed_namespaces:
        return []
    modes = {"spec.mtls.mode": lookup(props, "spec", "mtls", "mode")}
    modes.update(
        {
            f"spec.portLevelMtls.{port}.mode": lookup(port_mtls, "mode")
            for port, port_mtls in mapping_at(props, "spec", "portLevelMtls").items()
        }
    )
    return [
        f"PeerAuthentication '{name_of(props)}' in namespace '{namespace}' sets {field} {mode}, which accepts "
        f"plaintext; use STRICT (or UNSET to inherit), or {migration_allowance(namespace)}"
        for field, mode in modes.items()
        if mode in WEAK_MTLS_MODES
    ]


def enrols(namespace_props: Mapping[str, Any], workloads: Sequence[Resource]) -> bool:
    """A namespace labelled for sidecar injection, or for ambient."""
    labels = labels_of(namespace_props)
    return is_injected(labels) or labels.get(DATAPLANE_MODE_LABEL) == AMBIENT_DATAPLANE_MODE


def injects_image(pod_annotations: Mapping[str, Any], image: str) -> bool:
    return INJECTION_TEMPLATE_ANNOTATION in pod_annotations and image == INJECTED_IMAGE_PLACEHOLDER


GUARDRAILS = MeshGuardrails(
    mtls_violations=mtls_violations,
    mtls_config={
        "rootNamespace": {
            "type": "string",
            "default": ROOT_NAMESPACE,
            "description": "Istio's root namespace (servicemesh:mesh.istio.namespace), which holds the mesh-wide "
            "PeerAuthentication.",
        }
    },
    mtls_rule="Istio's one mesh-wide PeerAuthentication is STRICT",
    plaintext_violations=peer_authentication_mode_violations,
    plaintext_rule="no Istio PeerAuthentication sets PERMISSIVE or DISABLE",
    plaintext_objects="Istio PeerAuthentications (PERMISSIVE or DISABLE)",
    enrols=enrols,
    enrolment_choice=(
        f"label it {SIDECAR_INJECTION_LABEL}=enabled, {REVISION_LABEL}=<revision or tag> or "
        f"{DATAPLANE_MODE_LABEL}={AMBIENT_DATAPLANE_MODE} (Istio)"
    ),
    enrolment_mark="Istio labels",
    own_namespaces=(ROOT_NAMESPACE, GATEWAY_NAMESPACE),
    injects_image=injects_image,
)
