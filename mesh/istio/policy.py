"""Istio's part of the policy pack (`mesh.guardrails`): one STRICT mesh-wide PeerAuthentication,
no PeerAuthentication or DestinationRule that lets plaintext into the mesh, namespaces enrolled by
label, no pod or policy that bypasses the mesh in them, the ingress gateway recognised by what it
runs, and what ztunnel and istio-cni need of their nodes."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from mesh.guardrails import (
    MeshGuardrails,
    PodSecurityExemption,
    Resource,
    Violation,
    describe,
    migration_allowance,
    opt_out_violation,
    pod_templates_in,
)
from mesh.istio.manifests import (
    AMBIENT_DATAPLANE_MODE,
    AUTHORIZATION_POLICY_API_VERSION,
    DATAPLANE_MODE_LABEL,
    NETWORKING_API_VERSION,
    POD_INJECTION_LABEL,
    REVISION_LABEL,
    SIDECAR_INJECTION_LABEL,
    WAYPOINT_GATEWAY_CLASS,
    is_injected,
    is_peer_authentication,
)
from mesh.istio.settings import GatewaySettings, IstioSettings
from mesh.istio.values import GATEWAY_CHART
from mesh.objects import (
    containers_of,
    group_of,
    is_kind,
    items_at,
    labels_of,
    lookup,
    mapping_at,
    name_of,
    namespace_of,
)

ROOT_NAMESPACE = IstioSettings.model_fields["namespace"].default
GATEWAY_NAMESPACE = GatewaySettings.model_fields["namespace"].default
# The gateway chart's pods start with `image: auto`; the injector's `gateway` template (named
# by this pod annotation) replaces it with the proxy image of the istiod that injects it.
INJECTION_TEMPLATE_ANNOTATION = "inject.istio.io/templates"
GATEWAY_TEMPLATE = "gateway"
PROXY_CONTAINER = "istio-proxy"
INJECTED_IMAGE_PLACEHOLDER = "auto"
WEAK_MTLS_MODES = frozenset({"PERMISSIVE", "DISABLE"})
# A client's TLS toward a host: DISABLE sends plaintext, SIMPLE is TLS without the client's mesh identity.
WEAK_CLIENT_TLS_MODES = frozenset({"DISABLE", "SIMPLE"})
SECURITY_GROUP = AUTHORIZATION_POLICY_API_VERSION.partition("/")[0]
NETWORKING_GROUP = NETWORKING_API_VERSION.partition("/")[0]


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


def plaintext_violations(
    resource_type: str, props: Mapping[str, Any], *, allowed_namespaces: Collection[str]
) -> list[str]:
    """No PeerAuthentication accepts plaintext and no DestinationRule sends it inside the mesh."""
    return peer_authentication_mode_violations(
        resource_type, props, allowed_namespaces=allowed_namespaces
    ) + destination_rule_tls_violations(resource_type, props, allowed_namespaces=allowed_namespaces)


def destination_rule_tls_violations(
    resource_type: str, props: Mapping[str, Any], *, allowed_namespaces: Collection[str]
) -> list[str]:
    """No DestinationRule outside the allowlist makes clients of an in-mesh host send plaintext (tls
    DISABLE) or TLS without their mesh identity (SIMPLE), at any level: the whole host, a port, a subset."""
    if not is_kind(resource_type, NETWORKING_GROUP, "DestinationRule"):
        return []
    namespace, host = namespace_of(props), str(lookup(props, "spec", "host") or "")
    if namespace in allowed_namespaces or not is_in_mesh_host(host):
        return []
    return [
        f"DestinationRule '{name_of(props)}' in namespace '{namespace}' sets {field} {mode} for the in-mesh host "
        f"'{host}', so its clients send {'plaintext' if mode == 'DISABLE' else 'TLS without their mesh identity'} "
        f"where the mesh expects mTLS; use ISTIO_MUTUAL (or leave tls unset), or {migration_allowance(namespace)}"
        for field, mode in _client_tls_modes(mapping_at(props, "spec"))
        if mode in WEAK_CLIENT_TLS_MODES
    ]


def is_in_mesh_host(host: str) -> bool:
    """Whether a DestinationRule host names Services of the cluster: a short name, `*`, or a name under
    `.svc` or the cluster domain (`.local`); anything else is outside (TLS origination to it is fine)."""
    return host == "*" or "." not in host or host.endswith((".svc", ".local")) or ".svc." in host


def _client_tls_modes(spec: Mapping[str, Any]) -> list[tuple[str, Any]]:
    policies = [("spec.trafficPolicy", mapping_at(spec, "trafficPolicy"))]
    policies += [
        (f"spec.subsets[{index}].trafficPolicy", mapping_at(subset, "trafficPolicy"))
        for index, subset in enumerate(items_at(spec, "subsets"))
        if isinstance(subset, Mapping)
    ]
    modes = []
    for path, policy in policies:
        modes.append((f"{path}.tls.mode", lookup(policy, "tls", "mode")))
        modes += [
            (f"{path}.portLevelSettings[{index}].tls.mode", lookup(setting, "tls", "mode"))
            for index, setting in enumerate(items_at(policy, "portLevelSettings"))
            if isinstance(setting, Mapping)
        ]
    return modes


def enrols(namespace_props: Mapping[str, Any], workloads: Sequence[Resource]) -> bool:
    """A namespace labelled for sidecar injection, or for ambient."""
    labels = labels_of(namespace_props)
    return is_injected(labels) or labels.get(DATAPLANE_MODE_LABEL) == AMBIENT_DATAPLANE_MODE


def injects_image(pod_annotations: Mapping[str, Any], image: str) -> bool:
    return INJECTION_TEMPLATE_ANNOTATION in pod_annotations and image == INJECTED_IMAGE_PLACEHOLDER


def is_ingress_gateway(pod_metadata: Mapping[str, Any], pod_spec: Mapping[str, Any]) -> bool:
    """A pod that runs nothing but the proxy the injector's gateway template fills in: a gateway, which
    serves only what Istio's Gateway and VirtualService objects route through it."""
    containers = list(containers_of(pod_spec, ephemeral=True))
    return (
        mapping_at(pod_metadata, "annotations").get(INJECTION_TEMPLATE_ANNOTATION) == GATEWAY_TEMPLATE
        and len(containers) == 1
        and containers[0].get("name") == PROXY_CONTAINER
        and containers[0].get("image") == INJECTED_IMAGE_PLACEHOLDER
    )


# Mesh bypasses

# Pod labels or annotations, and the values that take a pod out of the mesh: no sidecar, no ambient
# redirection, inbound traffic past ztunnel, or a sidecar that intercepts nothing.
OPT_OUTS = {
    POD_INJECTION_LABEL: frozenset({"false"}),
    DATAPLANE_MODE_LABEL: frozenset({"none"}),
    "ambient.istio.io/bypass-inbound-capture": frozenset({"true"}),
    "sidecar.istio.io/interceptionMode": frozenset({"NONE"}),
}
# Annotations that keep ports, addresses or interfaces out of the sidecar's redirection, whatever they list.
EXCLUSIONS = (
    "traffic.sidecar.istio.io/excludeInboundPorts",
    "traffic.sidecar.istio.io/excludeOutboundPorts",
    "traffic.sidecar.istio.io/excludeOutboundIPRanges",
    "traffic.sidecar.istio.io/excludeInterfaces",
)
# Annotations that narrow what the sidecar redirects: anything but `*` (all) leaves the rest outside.
INCLUSIONS = ("traffic.sidecar.istio.io/includeInboundPorts", "traffic.sidecar.istio.io/includeOutboundIPRanges")
# AuthorizationPolicy source fields that name who a rule admits; `*`, or a whole trust domain, names everyone.
IDENTITY_FIELDS = ("principals", "requestPrincipals", "namespaces", "ipBlocks", "remoteIpBlocks")
EVERY_ADDRESS = frozenset({"0.0.0.0/0", "::/0"})


def bypass_violations(
    resources: Sequence[Resource], *, enrolled_namespaces: Collection[str], config: Mapping[str, Any]
) -> list[Violation]:
    """No pod of an enrolled namespace opts out of injection or redirection, or keeps ports or addresses
    out of it; and no ALLOW AuthorizationPolicy admits everyone where a default deny (an `allow-nothing`
    policy in its namespace, or in the root namespace `config["rootNamespace"]`) is meant to hold."""
    violations = [
        opt_out_violation(
            workload,
            found,
            way_back="remove them (a workload that must stay outside belongs in a namespace that is not enrolled)",
        )
        for workload, labels, annotations in pod_templates_in(resources, enrolled_namespaces)
        if (found := _opt_outs(labels, annotations))
    ]
    return violations + _allow_everyone_violations(resources, root_namespace=config["rootNamespace"])


def _opt_outs(labels: Mapping[str, Any], annotations: Mapping[str, Any]) -> list[str]:
    found = []
    for what, metadata in (("label", labels), ("annotation", annotations)):
        found += [
            f"{what} {key}={metadata[key]}"
            for key, values in OPT_OUTS.items()
            if key in metadata and str(metadata[key]) in values
        ]
    found += [f"annotation {key}={annotations[key]}" for key in EXCLUSIONS if str(annotations.get(key) or "").strip()]
    found += [
        f"annotation {key}={annotations[key]}" for key in INCLUSIONS if key in annotations and annotations[key] != "*"
    ]
    return found


def _allow_everyone_violations(resources: Sequence[Resource], *, root_namespace: str) -> list[Violation]:
    policies = [resource for resource in resources if is_kind(resource.type, SECURITY_GROUP, "AuthorizationPolicy")]
    denying = {
        namespace_of(policy.props) for policy in policies if _denies_by_default(mapping_at(policy.props, "spec"))
    }
    violations = []
    for policy in policies:
        namespace = namespace_of(policy.props)
        covered = namespace in denying or root_namespace in denying or (namespace == root_namespace and denying)
        rule = _rule_admitting_everyone(mapping_at(policy.props, "spec"))
        if covered and rule is not None:
            violations.append(
                Violation(
                    f"{describe(policy.type, policy.props)} is an ALLOW policy whose rule {rule} admits every caller, "
                    f"past the default deny of {'every namespace' if namespace == root_namespace else repr(namespace)} "
                    "(servicemesh:authorization.defaultDeny): name the callers in `from.source.principals` (their "
                    "SPIFFE identities), or remove it",
                    policy.urn,
                )
            )
    return violations


def _is_allow(spec: Mapping[str, Any]) -> bool:
    return (lookup(spec, "action") or "ALLOW") == "ALLOW"


def _denies_by_default(spec: Mapping[str, Any]) -> bool:
    """An ALLOW policy for a whole namespace without rules: it allows nothing, so whatever no other ALLOW
    policy admits is denied (Istio's `allow-nothing`)."""
    scoped = any(lookup(spec, field) for field in ("selector", "targetRef", "targetRefs"))
    return _is_allow(spec) and not scoped and not items_at(spec, "rules")


def _rule_admitting_everyone(spec: Mapping[str, Any]) -> int | None:
    """The index of an ALLOW policy's first rule that admits any caller: a rule without sources (`{}`, or
    only `to`), or with a source that names nobody in particular (`principals: ["*"]`)."""
    if not _is_allow(spec):
        return None
    for index, rule in enumerate(items_at(spec, "rules")):
        if not isinstance(rule, Mapping):
            continue
        sources = [mapping_at(entry, "source") for entry in items_at(rule, "from") if isinstance(entry, Mapping)]
        if (not sources and not _conditions_name_callers(rule)) or any(
            not _names_callers(source) for source in sources
        ):
            return index
    return None


def _names_callers(source: Mapping[str, Any]) -> bool:
    return any(
        values and not any(_is_wildcard(str(value)) for value in values)
        for values in (items_at(source, field) for field in IDENTITY_FIELDS)
    )


def _conditions_name_callers(rule: Mapping[str, Any]) -> bool:
    return any(
        str(lookup(condition, "key") or "").startswith(("source.", "request.auth."))
        and items_at(condition, "values")
        and not any(_is_wildcard(str(value)) for value in items_at(condition, "values"))
        for condition in items_at(rule, "when")
        if isinstance(condition, Mapping)
    )


def _is_wildcard(value: str) -> bool:
    """`*`, a whole trust domain (`cluster.local/*`) or every address."""
    return value == "*" or (value.endswith("/*") and value.count("/") == 1) or value in EVERY_ADDRESS


# Pod security: what Istio's node agents need of their nodes in ambient mode (sidecar mode's
# `istio-init` is injected at admission, where the pack does not see it).
ZTUNNEL_NEEDS = (
    "ztunnel proxies the traffic of every ambient pod on its node from inside that pod's network namespace: it "
    "enters it (setns, SYS_ADMIN, which forces privilege escalation on) and intercepts its traffic (TPROXY, "
    "NET_ADMIN and NET_RAW), as root; it takes pods from istio-cni over a socket in the node's /var/run/ztunnel; "
    "its chart (1.30.3) renders no seccomp profile and offers no value to set one"
)
CNI_NEEDS = (
    "istio-cni installs Istio's CNI plugin on the node (/opt/cni/bin, /etc/cni/net.d), enters each new ambient "
    "pod's network namespace (/proc, /var/run/netns; SYS_ADMIN, SYS_PTRACE, which force privilege escalation on) to "
    "redirect its traffic to ztunnel (NET_ADMIN, NET_RAW), and hands the pod to ztunnel over /var/run/ztunnel and "
    "/var/run/istio-cni, as root, writing root-owned node files (DAC_OVERRIDE)"
)
POD_SECURITY_EXEMPTIONS = (
    PodSecurityExemption(
        kind="DaemonSet",
        name="ztunnel",
        container=None,
        allowed=frozenset({"hostPath /var/run/ztunnel"}),
        reason=ZTUNNEL_NEEDS,
    ),
    PodSecurityExemption(
        kind="DaemonSet",
        name="ztunnel",
        container=None,
        allowed=frozenset({"automountServiceAccountToken"}),
        reason="ztunnel authenticates to istiod with its projected `istio-token` and its ServiceAccount has no role, "
        "but its chart (1.30.3) mounts the API token too and offers no value to stop it",
    ),
    PodSecurityExemption(
        kind="DaemonSet",
        name="ztunnel",
        container=PROXY_CONTAINER,
        allowed=frozenset(
            {
                "allowPrivilegeEscalation",
                "capabilities.add NET_ADMIN",
                "capabilities.add SYS_ADMIN",
                "capabilities.add NET_RAW",
                "runAsUser 0",
                "runAsNonRoot false",
                "seccompProfile unset",
            }
        ),
        reason=ZTUNNEL_NEEDS,
    ),
    PodSecurityExemption(
        kind="DaemonSet",
        name="istio-cni-node",
        container=None,
        allowed=frozenset(
            {
                "hostPath /opt/cni/bin",
                "hostPath /etc/cni/net.d",
                "hostPath /proc",
                "hostPath /var/run/netns",
                "hostPath /var/run/ztunnel",
                "hostPath /var/run/istio-cni",
            }
        ),
        reason=CNI_NEEDS,
    ),
    PodSecurityExemption(
        kind="DaemonSet",
        name="istio-cni-node",
        container="install-cni",
        allowed=frozenset(
            {
                "allowPrivilegeEscalation",
                "capabilities.add NET_ADMIN",
                "capabilities.add NET_RAW",
                "capabilities.add SYS_ADMIN",
                "capabilities.add SYS_PTRACE",
                "capabilities.add DAC_OVERRIDE",
                "runAsUser 0",
                "runAsNonRoot false",
            }
        ),
        reason=CNI_NEEDS,
    ),
)


def shows_control_plane(resource: Resource) -> bool:
    """Istio's security objects (the mesh-wide PeerAuthentication) are custom resources the stack
    declares itself, so they show Istio also in a first preview, where the charts' objects are not
    rendered yet."""
    return group_of(resource.type) == SECURITY_GROUP


GUARDRAILS = MeshGuardrails(
    mtls_violations=mtls_violations,
    policy_config={
        "rootNamespace": {
            "type": "string",
            "default": ROOT_NAMESPACE,
            "description": "Istio's root namespace (servicemesh:mesh.istio.namespace), whose PeerAuthentication "
            "and AuthorizationPolicies hold mesh-wide.",
        }
    },
    mtls_rule="Istio's one mesh-wide PeerAuthentication is STRICT",
    plaintext_violations=plaintext_violations,
    plaintext_rule="no Istio PeerAuthentication sets PERMISSIVE or DISABLE (mesh-wide or per port), and no "
    "DestinationRule sets tls DISABLE or SIMPLE for an in-mesh host",
    plaintext_objects="Istio PeerAuthentications (PERMISSIVE or DISABLE) and DestinationRules (DISABLE or SIMPLE)",
    enrols=enrols,
    bypass_violations=bypass_violations,
    bypass_rule="no Istio opt-out of injection or redirection (sidecar.istio.io/inject, istio.io/dataplane-mode, "
    "excluded or narrowed ports and ranges), and no ALLOW AuthorizationPolicy admitting everyone past a default deny",
    enrolment_choice=(
        f"label it {SIDECAR_INJECTION_LABEL}=enabled, {REVISION_LABEL}=<revision or tag> or "
        f"{DATAPLANE_MODE_LABEL}={AMBIENT_DATAPLANE_MODE} (Istio)"
    ),
    enrolment_mark="Istio labels",
    own_namespaces=(ROOT_NAMESPACE, GATEWAY_NAMESPACE),
    shows_control_plane=shows_control_plane,
    injects_image=injects_image,
    pod_security_exemptions=POD_SECURITY_EXEMPTIONS,
    is_ingress_gateway=is_ingress_gateway,
    ingress_gateway_chart=GATEWAY_CHART,
    internal_gateway_classes=frozenset({WAYPOINT_GATEWAY_CLASS}),
)
