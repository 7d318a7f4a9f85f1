"""Linkerd's part of the policy pack (`mesh.guardrails`): an authenticated default inbound policy,
no override that admits clients without a mesh identity, namespaces enrolled by annotation, no pod
or policy that bypasses the mesh in them, and what the control plane's own init containers need."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

import yaml

from mesh.charts import HELM_INSTALL_TYPES
from mesh.guardrails import (
    MeshGuardrails,
    PodSecurityExemption,
    Resource,
    SystemNamespaceExemption,
    Violation,
    describe,
    migration_allowance,
    opt_out_violation,
    pod_templates_in,
)
from mesh.linkerd.images import CONFIG_MAP as LINKERD_CONFIG_MAP
from mesh.linkerd.manifests import (
    DEFAULT_INBOUND_POLICIES,
    DEFAULT_INBOUND_POLICY_ANNOTATION,
    INJECT_ANNOTATION,
    POLICY_GROUP,
    PROXY_ADMIN_PORT,
)
from mesh.linkerd.settings import LinkerdSettings
from mesh.linkerd.values import CONTROL_PLANE_CHART
from mesh.objects import (
    CONFIG_MAP,
    NAMESPACE,
    WORKLOAD_TYPES,
    annotations_of,
    chart_name,
    containers_of,
    group_of,
    is_kind,
    items_at,
    lookup,
    mapping_at,
    name_of,
    namespace_of,
    pod_metadata_of,
    pod_spec_of,
)

# The default inbound policies that admit only clients with a mesh identity (mTLS): the one
# STRICT sets, one limited to the cluster's identities, and refusing everyone a Server does not allow.
AUTHENTICATED_POLICIES = frozenset({DEFAULT_INBOUND_POLICIES["STRICT"], "cluster-authenticated", "deny"})


def mtls_violations(resources: Sequence[Resource], config: Mapping[str, Any]) -> list[Violation]:
    """Every control plane makes meshed pods refuse clients without a mesh identity by default: its
    values set `proxy.defaultInboundPolicy` to all-authenticated (or the stricter cluster-authenticated
    or deny)."""
    violations = []
    for source, values in _control_planes(resources):
        policy = lookup(values, "proxy", "defaultInboundPolicy")
        if _is_authenticated(policy):
            continue
        found = (
            f"sets proxy.defaultInboundPolicy {policy}"
            if policy
            else "sets no proxy.defaultInboundPolicy, so the chart's all-unauthenticated applies"
        )
        violations.append(
            Violation(
                f"the Linkerd control plane ({_describe_source(source)}) {found}: meshed pods accept plaintext "
                f"from clients without a mesh identity; set proxy.defaultInboundPolicy to "
                f"{DEFAULT_INBOUND_POLICIES['STRICT']} (servicemesh:mesh.mtlsMode STRICT), or to "
                "cluster-authenticated or deny",
                source.urn,
            )
        )
    return violations


def _is_authenticated(policy: Any) -> bool:
    return isinstance(policy, str) and policy in AUTHENTICATED_POLICIES


def _control_planes(resources: Sequence[Resource]) -> list[tuple[Resource, Mapping[str, Any]]]:
    """Each control plane with its chart values: from the Helm install's inputs, or from the
    `linkerd-config` ConfigMap the chart renders (a real preview of a `helm.sh/v4:Chart`)."""
    planes: list[tuple[Resource, Mapping[str, Any]]] = []
    for resource in resources:
        if is_config(resource):
            planes.append((resource, _yaml_mapping(lookup(resource.props, "data", "values"))))
        elif _is_control_plane_install(resource):
            planes.append((resource, mapping_at(resource.props, "values")))
    return planes


def _is_control_plane_install(resource: Resource) -> bool:
    return (
        resource.type in HELM_INSTALL_TYPES
        and chart_name(str(lookup(resource.props, "chart") or "")) == CONTROL_PLANE_CHART
    )


def is_config(resource: Resource) -> bool:
    """Whether a resource is the ConfigMap in which the control-plane chart keeps its values, as YAML
    (key `values`), where the proxy injector reads them; a real preview shows it among a
    `helm.sh/v4:Chart`'s rendered objects."""
    return resource.type == CONFIG_MAP and name_of(resource.props) == LINKERD_CONFIG_MAP


def shows_control_plane(resource: Resource) -> bool:
    """The control plane's config, rendered by its chart, or Linkerd's policy objects (Servers,
    authorizations), which the stack declares itself and so show Linkerd also in a first preview,
    when the chart waits on certificates not made yet and renders nothing."""
    return is_config(resource) or group_of(resource.type) == POLICY_GROUP


def _yaml_mapping(text: Any) -> Mapping[str, Any]:
    """The mapping a YAML document holds, or an empty one (for anything else, or text that is not YAML)."""
    try:
        document = yaml.safe_load(text) if isinstance(text, str) else None
    except yaml.YAMLError:
        return {}
    return document if isinstance(document, Mapping) else {}


def _describe_source(resource: Resource) -> str:
    if resource.type in HELM_INSTALL_TYPES:
        return f"chart '{lookup(resource.props, 'chart')}'"
    return f"ConfigMap {namespace_of(resource.props)}/{name_of(resource.props)}"


# Linkerd's own controllers, which its chart annotates `all-unauthenticated` on purpose: the API
# server calls their webhooks, and proxies that have no identity yet ask identity and destination
# for one, none of them with a mesh identity. Exempt by name and the chart's component label, not
# by namespace.
CONTROL_PLANE_CONTROLLERS = frozenset({"linkerd-destination", "linkerd-identity", "linkerd-proxy-injector"})
CONTROL_PLANE_COMPONENT_LABEL = "linkerd.io/control-plane-component"


def _is_control_plane_controller(props: Mapping[str, Any]) -> bool:
    return name_of(props) in CONTROL_PLANE_CONTROLLERS and CONTROL_PLANE_COMPONENT_LABEL in mapping_at(
        props, "metadata", "labels"
    )


def inbound_policy_violations(
    resource_type: str, props: Mapping[str, Any], *, allowed_namespaces: Collection[str]
) -> list[str]:
    """No namespace, pod template or Server (one port) outside the allowlist overrides the default
    inbound policy with one that admits clients without a mesh identity (`all-unauthenticated`,
    `cluster-unauthenticated`, `audit`: anything but all-authenticated, cluster-authenticated or deny)."""
    if is_kind(resource_type, POLICY_GROUP, "Server"):
        return _server_access_policy_violations(props, allowed_namespaces=allowed_namespaces)
    if resource_type == NAMESPACE:
        namespace, annotations, what = name_of(props), annotations_of(props), f"Namespace '{name_of(props)}'"
    elif pod_spec_of(resource_type, props) is not None:
        namespace = namespace_of(props)
        annotations = mapping_at(pod_metadata_of(resource_type, props), "annotations")
        what = f"{describe(resource_type, props)} (pod template)"
    else:
        return []
    policy = annotations.get(DEFAULT_INBOUND_POLICY_ANNOTATION)
    if policy is None or _is_authenticated(policy) or namespace in allowed_namespaces:
        return []
    if resource_type != NAMESPACE and _is_control_plane_controller(props):
        return []
    return [
        f"{what} sets the annotation {DEFAULT_INBOUND_POLICY_ANNOTATION}: {policy}, which admits clients without "
        f"a mesh identity (plaintext); use {', '.join(sorted(AUTHENTICATED_POLICIES))} (or remove it to "
        f"inherit the control plane's), or {migration_allowance(namespace)}"
    ]


def _server_access_policy_violations(props: Mapping[str, Any], *, allowed_namespaces: Collection[str]) -> list[str]:
    namespace, policy = namespace_of(props), lookup(props, "spec", "accessPolicy")
    if policy is None or _is_authenticated(policy) or namespace in allowed_namespaces:
        return []
    return [
        f"Server '{name_of(props)}' in namespace '{namespace}' sets spec.accessPolicy {policy}, which admits clients "
        f"without a mesh identity (plaintext) on port {lookup(props, 'spec', 'port')}; use "
        f"{', '.join(sorted(AUTHENTICATED_POLICIES))} (or remove it: a Server admits only what an "
        f"AuthorizationPolicy allows), or {migration_allowance(namespace)}"
    ]


def enrols(namespace_props: Mapping[str, Any], workloads: Sequence[Resource]) -> bool:
    """A namespace annotated for injection."""
    return annotations_of(namespace_props).get(INJECT_ANNOTATION) == "enabled"


# Mesh bypasses

DISABLED = "disabled"
DENY = "deny"
# Annotations that take ports or addresses out of the proxy, whatever they list.
SKIP_ANNOTATIONS = (
    "config.linkerd.io/skip-inbound-ports",
    "config.linkerd.io/skip-outbound-ports",
    "config.linkerd.io/skip-subnets",
)
WILDCARD_IDENTITY = "*"
PROBES = ("readinessProbe", "livenessProbe", "startupProbe")


def bypass_violations(
    resources: Sequence[Resource], *, enrolled_namespaces: Collection[str], config: Mapping[str, Any]
) -> list[Violation]:
    """In an enrolled namespace: no pod opts out of injection, skips ports or subnets, or overrides a
    default deny; and no authorization admits clients without a mesh identity (but to the proxies'
    admin port, and the kubelet to the paths its probes GET) or, past a default deny, every identity."""
    denying = _denying_namespaces(resources, enrolled_namespaces)
    violations = []
    for workload, _, pod_annotations in pod_templates_in(resources, enrolled_namespaces):
        found = _opt_outs(pod_annotations, default_deny=namespace_of(workload.props) in denying)
        if found:
            violations.append(opt_out_violation(workload, found, way_back="remove them"))
    violations += _namespace_overrides(resources, enrolled_namespaces)
    for resource in resources:
        if namespace_of(resource.props) not in enrolled_namespaces:
            continue
        if is_kind(resource.type, POLICY_GROUP, "AuthorizationPolicy"):
            reason = _authorization_policy_admits(resource.props, resources, denying)
        elif is_kind(resource.type, POLICY_GROUP, "ServerAuthorization"):
            reason = _server_authorization_admits(resource.props, denying)
        else:
            continue
        if reason:
            violations.append(
                Violation(
                    f"{describe(resource.type, resource.props)} admits {reason}: require a MeshTLSAuthentication "
                    "naming the callers' ServiceAccounts, or remove it",
                    resource.urn,
                )
            )
    return violations


def _opt_outs(pod_annotations: Mapping[str, Any], *, default_deny: bool) -> list[str]:
    found = [f"annotation {INJECT_ANNOTATION}={DISABLED}"] if pod_annotations.get(INJECT_ANNOTATION) == DISABLED else []
    found += [
        f"annotation {key}={pod_annotations[key]}"
        for key in SKIP_ANNOTATIONS
        if str(pod_annotations.get(key) or "").strip()
    ]
    policy = pod_annotations.get(DEFAULT_INBOUND_POLICY_ANNOTATION)
    if default_deny and policy is not None and policy != DENY:
        found.append(f"annotation {DEFAULT_INBOUND_POLICY_ANNOTATION}={policy} (over the namespace's default deny)")
    return found


def _namespace_overrides(resources: Sequence[Resource], enrolled: Collection[str]) -> list[Violation]:
    """An enrolled namespace whose annotation lifts a control plane's mesh-wide `deny`."""
    if not _denies_mesh_wide(resources):
        return []
    return [
        Violation(
            f"Namespace '{name_of(resource.props)}' sets the annotation {DEFAULT_INBOUND_POLICY_ANNOTATION}: "
            f"{annotations_of(resource.props)[DEFAULT_INBOUND_POLICY_ANNOTATION]} over the control plane's default "
            "deny: remove it, and admit its callers with AuthorizationPolicies",
            resource.urn,
        )
        for resource in resources
        if resource.type == NAMESPACE
        and name_of(resource.props) in enrolled
        and annotations_of(resource.props).get(DEFAULT_INBOUND_POLICY_ANNOTATION, DENY) != DENY
    ]


def _denies_mesh_wide(resources: Sequence[Resource]) -> bool:
    return any(lookup(values, "proxy", "defaultInboundPolicy") == DENY for _, values in _control_planes(resources))


def _denying_namespaces(resources: Sequence[Resource], enrolled: Collection[str]) -> frozenset[str]:
    """The enrolled namespaces whose default inbound policy is `deny`: by their own annotation, or by the
    control plane's default when they set none."""
    mesh_wide = _denies_mesh_wide(resources)
    return frozenset(
        name_of(resource.props)
        for resource in resources
        if resource.type == NAMESPACE
        and name_of(resource.props) in enrolled
        and annotations_of(resource.props).get(DEFAULT_INBOUND_POLICY_ANNOTATION, DENY if mesh_wide else None) == DENY
    )


def _authorization_policy_admits(
    props: Mapping[str, Any], resources: Sequence[Resource], denying: Collection[str]
) -> str | None:
    namespace = namespace_of(props)
    references = [ref for ref in items_at(props, "spec", "requiredAuthenticationRefs") if isinstance(ref, Mapping)]
    if not references:
        return "every client, with or without a mesh identity (it requires no authentication)"
    kinds = {str(ref.get("kind")) for ref in references}
    if "NetworkAuthentication" in kinds and not _opens_only_probes_or_admin(
        mapping_at(props, "spec", "targetRef"), namespace, resources
    ):
        return "clients by network address alone, without a mesh identity (a NetworkAuthentication)"
    authentications = [
        _find(resources, "MeshTLSAuthentication", str(ref.get("namespace") or namespace), str(ref.get("name")))
        for ref in references
        if ref.get("kind") == "MeshTLSAuthentication"
    ]
    if namespace in denying and any(
        WILDCARD_IDENTITY in items_at(authentication or {}, "spec", "identities") for authentication in authentications
    ):
        return "every mesh identity (a MeshTLSAuthentication of '*') past the namespace's default deny"
    return None


def _server_authorization_admits(props: Mapping[str, Any], denying: Collection[str]) -> str | None:
    client = mapping_at(props, "spec", "client")
    if client.get("unauthenticated") is True or lookup(client, "meshTLS", "unauthenticatedTLS") is True:
        return "clients without a mesh identity (client.unauthenticated or meshTLS.unauthenticatedTLS)"
    if namespace_of(props) in denying and WILDCARD_IDENTITY in items_at(client, "meshTLS", "identities"):
        return "every mesh identity (meshTLS.identities '*') past the namespace's default deny"
    return None


def _find(resources: Sequence[Resource], kind: str, namespace: str, name: str) -> Mapping[str, Any] | None:
    """The props of the stack's Linkerd policy object `kind` namespace/name, if it declares one."""
    return next(
        (
            resource.props
            for resource in resources
            if is_kind(resource.type, POLICY_GROUP, kind)
            and namespace_of(resource.props) == namespace
            and name_of(resource.props) == name
        ),
        None,
    )


def _opens_only_probes_or_admin(target: Mapping[str, Any], namespace: str, resources: Sequence[Resource]) -> bool:
    """Whether an authorization's target is one that clients without a mesh identity must reach: the proxies'
    admin port (metrics and readiness; Linkerd answers its shutdown endpoint on localhost alone), or a route
    that matches only GETs of the exact paths the kubelet probes on its Server's pods."""
    if target.get("kind") == "Server":
        server = _find(resources, "Server", namespace, str(target.get("name")))
        return server is not None and lookup(server, "spec", "port") == PROXY_ADMIN_PORT
    if target.get("kind") == "HTTPRoute":
        route = _find(resources, "HTTPRoute", namespace, str(target.get("name")))
        return route is not None and _matches_only_probes(route, namespace, resources)
    return False


def _matches_only_probes(route: Mapping[str, Any], namespace: str, resources: Sequence[Resource]) -> bool:
    matches = [match for rule in items_at(route, "spec", "rules") for match in items_at(rule, "matches")]
    probe_paths: set[str] = set()
    for parent in items_at(route, "spec", "parentRefs"):
        server = _find(resources, "Server", namespace, str(lookup(parent, "name")))
        if server is not None:
            probe_paths |= _probe_paths(mapping_at(server, "spec", "podSelector", "matchLabels"), namespace, resources)
    return bool(matches) and all(
        lookup(match, "method") == "GET"
        and lookup(match, "path", "type") == "Exact"
        and lookup(match, "path", "value") in probe_paths
        for match in matches
    )


def _probe_paths(selector: Mapping[str, Any], namespace: str, resources: Sequence[Resource]) -> set[str]:
    """The HTTP paths the kubelet probes on the stack's pods that `selector` picks in `namespace`."""
    paths = set()
    for workload in resources:
        labels = mapping_at(pod_metadata_of(workload.type, workload.props), "labels")
        if (
            workload.type in WORKLOAD_TYPES
            and namespace_of(workload.props) == namespace
            and all(labels.get(key) == value for key, value in selector.items())
        ):
            for container in containers_of(pod_spec_of(workload.type, workload.props) or {}):
                paths |= {
                    str(lookup(container, probe, "httpGet", "path"))
                    for probe in PROBES
                    if lookup(container, probe, "httpGet", "path")
                }
    return paths


# Pod security: the control plane's own controllers are meshed by the chart itself, with the
# init container that the injector adds to every other meshed pod (where the pack does not see it).
PROXY_INIT_NEEDS = (
    "linkerd-init (proxy-init) rewrites the pod's iptables so that every connection passes its proxy, which needs "
    "NET_ADMIN and NET_RAW; it runs as a non-root user and exits before the controller starts (linkerd-cni would "
    "remove the need, at the price of a node agent that needs more)"
)
POD_SECURITY_EXEMPTIONS = tuple(
    PodSecurityExemption(
        kind="Deployment",
        name=controller,
        container="linkerd-init",
        allowed=frozenset({"capabilities.add NET_ADMIN", "capabilities.add NET_RAW"}),
        reason=PROXY_INIT_NEEDS,
    )
    for controller in sorted(CONTROL_PLANE_CONTROLLERS)
)

# The chart names the binding after the viz namespace, as the settings default it.
SYSTEM_NAMESPACE_EXEMPTIONS = (
    SystemNamespaceExemption(
        kind="RoleBinding",
        namespace="kube-system",
        name=f"linkerd-{LinkerdSettings.model_fields['viz_namespace'].default}-tap-auth-reader",
        reason="linkerd-viz's tap API is an aggregated API server: it checks its callers against the client CA "
        "that Kubernetes publishes in kube-system, readable only through the Role "
        "extension-apiserver-authentication-reader there, so the binding must be there too",
    ),
)


GUARDRAILS = MeshGuardrails(
    mtls_violations=mtls_violations,
    mtls_rule="Linkerd's default inbound policy is authenticated",
    plaintext_violations=inbound_policy_violations,
    plaintext_rule="no Linkerd inbound-policy annotation or Server access policy admits unauthenticated clients",
    plaintext_objects="Linkerd inbound-policy annotations and Server access policies (unauthenticated)",
    enrols=enrols,
    bypass_violations=bypass_violations,
    bypass_rule="no Linkerd opt-out (linkerd.io/inject disabled, skipped ports or subnets, an inbound policy over a "
    "default deny), and no AuthorizationPolicy or ServerAuthorization admitting clients without a mesh identity, "
    "or every identity past a default deny",
    enrolment_choice=f"annotate it {INJECT_ANNOTATION}=enabled (Linkerd)",
    enrolment_mark="Linkerd's inject annotation",
    own_namespaces=(
        LinkerdSettings.model_fields["namespace"].default,
        LinkerdSettings.model_fields["viz_namespace"].default,
    ),
    shows_control_plane=shows_control_plane,
    pod_security_exemptions=POD_SECURITY_EXEMPTIONS,
    system_namespace_exemptions=SYSTEM_NAMESPACE_EXEMPTIONS,
)
