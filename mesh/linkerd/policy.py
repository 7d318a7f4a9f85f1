"""Linkerd's part of the policy pack (`mesh.guardrails`): an authenticated default inbound policy,
no override that admits clients without a mesh identity, and namespaces enrolled by annotation."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

import yaml

from mesh.charts import HELM_INSTALL_TYPES
from mesh.guardrails import MeshGuardrails, Resource, Violation, describe, migration_allowance
from mesh.linkerd.images import CONFIG_MAP as LINKERD_CONFIG_MAP
from mesh.linkerd.manifests import DEFAULT_INBOUND_POLICIES, DEFAULT_INBOUND_POLICY_ANNOTATION, INJECT_ANNOTATION
from mesh.linkerd.settings import LinkerdSettings
from mesh.linkerd.values import CONTROL_PLANE_CHART
from mesh.objects import (
    CONFIG_MAP,
    NAMESPACE,
    annotations_of,
    chart_name,
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
    """No namespace or pod template outside the allowlist overrides the default inbound policy with
    one that admits clients without a mesh identity (`all-unauthenticated`, `cluster-unauthenticated`,
    `audit`: anything but all-authenticated, cluster-authenticated or deny)."""
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


def enrols(namespace_props: Mapping[str, Any], workloads: Sequence[Resource]) -> bool:
    """A namespace annotated for injection."""
    return annotations_of(namespace_props).get(INJECT_ANNOTATION) == "enabled"


GUARDRAILS = MeshGuardrails(
    mtls_violations=mtls_violations,
    mtls_rule="Linkerd's default inbound policy is authenticated",
    plaintext_violations=inbound_policy_violations,
    plaintext_rule="no Linkerd inbound-policy annotation admits unauthenticated clients",
    plaintext_objects="Linkerd inbound-policy annotations (unauthenticated)",
    enrols=enrols,
    enrolment_choice=f"annotate it {INJECT_ANNOTATION}=enabled (Linkerd)",
    enrolment_mark="Linkerd's inject annotation",
    own_namespaces=(
        LinkerdSettings.model_fields["namespace"].default,
        LinkerdSettings.model_fields["viz_namespace"].default,
    ),
    shows_control_plane=is_config,
)
