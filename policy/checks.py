"""The policies' rules as pure functions over plain resources: the pack and the tests share them.

A resource check takes one resource's type token and props and returns the violation messages
(empty when it complies); a stack check takes every resource of the stack and returns
violations, each naming the resource it is about. Every message says what to change.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml
from pydantic import TypeAdapter, ValidationError

from mesh.charts import HELM_INSTALL_TYPES
from mesh.consul.manifests import CONSUL_API_VERSION, MESH_ENTRY_NAME
from mesh.consul.manifests import INJECT_ANNOTATION as CONSUL_INJECT_ANNOTATION
from mesh.consul.manifests import is_injected as consul_injected
from mesh.consul.values import CONTROL_PLANE_CHART as CONSUL_CHART
from mesh.istio.manifests import (
    AMBIENT_DATAPLANE_MODE,
    DATAPLANE_MODE_LABEL,
    REVISION_LABEL,
    SIDECAR_INJECTION_LABEL,
    is_injected,
    is_peer_authentication,
)
from mesh.istio.values import CONTROL_PLANE_CHART as ISTIOD_CHART
from mesh.linkerd.manifests import DEFAULT_INBOUND_POLICIES, DEFAULT_INBOUND_POLICY_ANNOTATION
from mesh.linkerd.manifests import INJECT_ANNOTATION as LINKERD_INJECT_ANNOTATION
from mesh.linkerd.values import CONTROL_PLANE_CHART as LINKERD_CONTROL_PLANE_CHART
from mesh.objects import (
    CONFIG_MAP,
    DEPLOYMENT,
    NAMESPACE,
    POD_DISRUPTION_BUDGET,
    SERVICE,
    STATEFUL_SET,
    WORKLOAD_TYPES,
    annotations_of,
    chart_name,
    containers_of,
    group_of,
    is_kind,
    labels_of,
    lookup,
    mapping_at,
    name_of,
    namespace_of,
    pod_metadata_of,
    pod_spec_of,
    replicas_of,
)
from settings.artifacts import RETIRED_LOCATIONS
from settings.models import PinnedImage

# The gateway chart's pods start with `image: auto`; the injector's `gateway` template (named
# by this pod annotation) replaces it with the proxy image of the istiod that injects it.
INJECTION_TEMPLATE_ANNOTATION = "inject.istio.io/templates"
INJECTED_IMAGE_PLACEHOLDER = "auto"

WEAK_MTLS_MODES = frozenset({"PERMISSIVE", "DISABLE"})
EXPOSED_SERVICE_TYPES = frozenset({"LoadBalancer", "NodePort"})
# A Helm chart version pinned exactly: SemVer 2 (as Helm reads it, `v` prefix allowed), no range.
_EXACT_CHART_VERSION = re.compile(r"^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$")
_LOCAL_CHART_PREFIXES = ("/", "./", "../", "file://")
_PINNED_IMAGE = TypeAdapter(PinnedImage)

ISTIO = "istio"
LINKERD = "linkerd"
CONSUL = "consul"
# The chart of each mesh's control plane: how the pack tells which mesh a stack runs. Not the stack's
# config: the pack also judges real previews, and what counts is what the stack installs.
CONTROL_PLANE_CHARTS = {ISTIOD_CHART: ISTIO, LINKERD_CONTROL_PLANE_CHART: LINKERD, CONSUL_CHART: CONSUL}
# Linkerd's default inbound policies that admit only clients with a mesh identity (mTLS): the one
# STRICT sets, one limited to the cluster's identities, and refusing everyone a Server does not allow.
LINKERD_AUTHENTICATED_POLICIES = frozenset({DEFAULT_INBOUND_POLICIES["STRICT"], "cluster-authenticated", "deny"})
# The control-plane chart keeps its values, as YAML, in this ConfigMap (key `values`), where the proxy
# injector reads them; a real preview shows it among a `helm.sh/v4:Chart`'s rendered objects.
LINKERD_CONFIG_MAP = "linkerd-config"
CONSUL_GROUP = CONSUL_API_VERSION.split("/")[0]
CONSUL_STRICT_MTLS_MODE = "strict"


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


# Meshes


def installed_meshes(resources: Sequence[Resource]) -> frozenset[str]:
    """The meshes whose control plane the stack installs (`istio`, `linkerd`, `consul`).

    A Helm install names its chart under mocks and for a Helm release (whose inputs the engine
    passes); a real preview passes no inputs of a `helm.sh/v4:Chart`, only its rendered objects,
    among them Linkerd's `linkerd-config` ConfigMap. Consul's config entries are custom resources
    the stack declares itself, so they show Consul either way.
    """
    return frozenset(mesh for mesh in map(_mesh_shown_by, resources) if mesh is not None)


def _mesh_shown_by(resource: Resource) -> str | None:
    """The mesh whose control plane `resource` installs or belongs to, if any."""
    if resource.type in HELM_INSTALL_TYPES:
        return CONTROL_PLANE_CHARTS.get(chart_name(str(lookup(resource.props, "chart") or "")))
    if _is_linkerd_config(resource):
        return LINKERD
    return CONSUL if group_of(resource.type) == CONSUL_GROUP else None


# mTLS


def mesh_wide_mtls_violations(resources: Sequence[Resource], *, root_namespace: str) -> list[Violation]:
    """mTLS is required mesh-wide, in the terms of each mesh the stack installs (Istio's when it
    installs none the pack recognises): see `istio_mtls_violations`, `linkerd_mtls_violations` and
    `consul_mtls_violations`. `root_namespace` is Istio's."""
    meshes = installed_meshes(resources) or {ISTIO}
    violations = []
    if ISTIO in meshes:
        violations += istio_mtls_violations(resources, root_namespace=root_namespace)
    if LINKERD in meshes:
        violations += linkerd_mtls_violations(resources)
    if CONSUL in meshes:
        violations += consul_mtls_violations(resources)
    return violations


def istio_mtls_violations(resources: Sequence[Resource], *, root_namespace: str) -> list[Violation]:
    """Istio (sidecar or ambient): exactly one mesh-wide PeerAuthentication (root namespace, no selector),
    and it is STRICT."""
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


def linkerd_mtls_violations(resources: Sequence[Resource]) -> list[Violation]:
    """Linkerd: every control plane makes meshed pods refuse clients without a mesh identity by
    default: its values set `proxy.defaultInboundPolicy` to all-authenticated (or the stricter
    cluster-authenticated or deny)."""
    violations = []
    for source, values in _linkerd_control_planes(resources):
        policy = lookup(values, "proxy", "defaultInboundPolicy")
        if _is_authenticated_linkerd_policy(policy):
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


def _is_authenticated_linkerd_policy(policy: Any) -> bool:
    return isinstance(policy, str) and policy in LINKERD_AUTHENTICATED_POLICIES


def _linkerd_control_planes(resources: Sequence[Resource]) -> list[tuple[Resource, Mapping[str, Any]]]:
    """Each Linkerd control plane with its chart values: from the Helm install's inputs, or from the
    `linkerd-config` ConfigMap the chart renders (a real preview of a `helm.sh/v4:Chart`)."""
    planes: list[tuple[Resource, Mapping[str, Any]]] = []
    for resource in resources:
        if _is_linkerd_config(resource):
            planes.append((resource, _yaml_mapping(lookup(resource.props, "data", "values"))))
        elif _mesh_shown_by(resource) == LINKERD:
            planes.append((resource, mapping_at(resource.props, "values")))
    return planes


def _is_linkerd_config(resource: Resource) -> bool:
    return resource.type == CONFIG_MAP and name_of(resource.props) == LINKERD_CONFIG_MAP


def _yaml_mapping(text: Any) -> Mapping[str, Any]:
    """The mapping a YAML document holds, or an empty one (for anything else, or text that is not YAML)."""
    try:
        document = yaml.safe_load(text) if isinstance(text, str) else None
    except yaml.YAMLError:
        return {}
    return document if isinstance(document, Mapping) else {}


def consul_mtls_violations(resources: Sequence[Resource]) -> list[Violation]:
    """Consul: the stack declares the `Mesh` config entry and it forbids permissive mTLS
    (`allowEnablingPermissiveMutualTLS` false or unset), and a `ProxyDefaults` that sets
    `mutualTLSMode` sets it `strict`."""
    entries = [resource for resource in resources if is_kind(resource.type, CONSUL_GROUP, "Mesh")]
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
            f"{CONSUL_STRICT_MTLS_MODE} (servicemesh:mesh.mtlsMode STRICT)",
            entry.urn,
        )
        for entry in resources
        if is_kind(entry.type, CONSUL_GROUP, "ProxyDefaults") and not _is_strict_consul_mode(entry.props)
    ]
    return violations


def _is_strict_consul_mode(props: Mapping[str, Any]) -> bool:
    """Whether a Consul ServiceDefaults or ProxyDefaults leaves `mutualTLSMode` unset (strict) or sets it strict."""
    mode = lookup(props, "spec", "mutualTLSMode")
    return not mode or str(mode).lower() == CONSUL_STRICT_MTLS_MODE


def _describe_source(resource: Resource) -> str:
    if resource.type in HELM_INSTALL_TYPES:
        return f"chart '{lookup(resource.props, 'chart')}'"
    return f"ConfigMap {namespace_of(resource.props)}/{name_of(resource.props)}"


# Plaintext


def plaintext_mode_violations(
    resource_type: str, props: Mapping[str, Any], *, allowed_namespaces: Collection[str]
) -> list[str]:
    """No object outside `allowed_namespaces` lets a workload accept plaintext, in any mesh's terms:
    see `peer_authentication_mode_violations`, `linkerd_inbound_policy_violations` and
    `consul_mtls_mode_violations`."""
    return [
        *peer_authentication_mode_violations(resource_type, props, allowed_namespaces=allowed_namespaces),
        *linkerd_inbound_policy_violations(resource_type, props, allowed_namespaces=allowed_namespaces),
        *consul_mtls_mode_violations(resource_type, props, allowed_namespaces=allowed_namespaces),
    ]


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
        f"plaintext; use STRICT (or UNSET to inherit), or add '{namespace}' to this policy's allowedNamespaces "
        "while it migrates"
        for field, mode in modes.items()
        if mode in WEAK_MTLS_MODES
    ]


def linkerd_inbound_policy_violations(
    resource_type: str, props: Mapping[str, Any], *, allowed_namespaces: Collection[str]
) -> list[str]:
    """No namespace or pod template outside the allowlist overrides Linkerd's default inbound policy
    with one that admits clients without a mesh identity (`all-unauthenticated`, `cluster-unauthenticated`,
    `audit`: anything but all-authenticated, cluster-authenticated or deny)."""
    if resource_type == NAMESPACE:
        namespace, annotations, what = name_of(props), annotations_of(props), f"Namespace '{name_of(props)}'"
    elif pod_spec_of(resource_type, props) is not None:
        namespace = namespace_of(props)
        annotations = mapping_at(pod_metadata_of(resource_type, props), "annotations")
        what = f"{_describe(resource_type, props)} (pod template)"
    else:
        return []
    policy = annotations.get(DEFAULT_INBOUND_POLICY_ANNOTATION)
    if policy is None or _is_authenticated_linkerd_policy(policy) or namespace in allowed_namespaces:
        return []
    return [
        f"{what} sets the annotation {DEFAULT_INBOUND_POLICY_ANNOTATION}: {policy}, which admits clients without "
        f"a mesh identity (plaintext); use {', '.join(sorted(LINKERD_AUTHENTICATED_POLICIES))} (or remove it to "
        f"inherit the control plane's), or add '{namespace}' to this policy's allowedNamespaces while it migrates"
    ]


def consul_mtls_mode_violations(
    resource_type: str, props: Mapping[str, Any], *, allowed_namespaces: Collection[str]
) -> list[str]:
    """No Consul ServiceDefaults or ProxyDefaults outside the allowlist sets `mutualTLSMode` to
    anything but strict (`permissive` accepts plaintext on the service port)."""
    kind = resource_type.rsplit(":", 1)[-1]
    if group_of(resource_type) != CONSUL_GROUP or kind not in ("ServiceDefaults", "ProxyDefaults"):
        return []
    namespace = namespace_of(props)
    if _is_strict_consul_mode(props) or namespace in allowed_namespaces:
        return []
    return [
        f"{kind} '{name_of(props)}' in namespace '{namespace}' sets spec.mutualTLSMode "
        f"{lookup(props, 'spec', 'mutualTLSMode')}, which accepts plaintext; use {CONSUL_STRICT_MTLS_MODE} (or "
        f"remove it to inherit), or add '{namespace}' to this policy's allowedNamespaces while it migrates"
    ]


# Helm charts


def helm_chart_pin_violations(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """A Helm chart pins an exact version and names where it comes from."""
    if resource_type not in HELM_INSTALL_TYPES or "chart" not in props:
        # The engine does not pass a component's inputs to policies, so a real preview shows a
        # `helm.sh/v4:Chart` without props (only its rendered objects): nothing to judge here.
        return []
    chart = str(lookup(props, "chart") or "")
    version = str(lookup(props, "version") or "")
    violations = []
    if not _EXACT_CHART_VERSION.match(version):
        found = f"version {version!r}" if version else "no version"
        violations.append(
            f"chart '{chart}' has {found}: pin one exact chart version such as 1.30.3 (no range, no latest), so "
            "every preview installs what was reviewed"
        )
    if not _names_chart_source(chart, str(lookup(props, "repositoryOpts", "repo") or "")):
        violations.append(
            f"chart '{chart}' does not name its source: set repositoryOpts.repo to the chart's https:// "
            "repository, or give the chart as an oci:// reference or a local path (/…, ./…, ../…); a bare or "
            "'alias/name' chart resolves through the Helm configuration of whichever machine runs Pulumi"
        )
    return violations


def _names_chart_source(chart: str, repository: str) -> bool:
    return bool(repository) or chart.startswith(("oci://", *_LOCAL_CHART_PREFIXES))


# Artifact locations

# A retired location named anywhere in a string (an image, a repository URL, a hub in values, the
# values text an injector ConfigMap carries), but not as part of a longer host or path name.
_RETIRED_MENTIONS = [
    (retired, re.compile(rf"(?<![A-Za-z0-9.-]){re.escape(retired.location)}(?![A-Za-z0-9.-])", re.IGNORECASE))
    for retired in RETIRED_LOCATIONS
]


def retired_location_violations(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """No resource pulls a chart or an image from a location that was retired, wherever it names it:
    a container image, a chart's repository or `oci://` reference, a hub in a chart's values, or the
    values an injector renders into a ConfigMap (which name the images it injects)."""
    subject = _describe(resource_type, props) if "metadata" in props else resource_type.rsplit(":", 1)[-1]
    violations = []
    for path, text in _strings_in(props):
        for retired, mention in _RETIRED_MENTIONS:
            if mention.search(text):
                violations.append(f"{subject}: {path} names {retired.location}: {retired.refusal()}")
    return violations


def _strings_in(node: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every string in nested props, with its path (`spec.template.spec.containers[0].image`)."""
    if isinstance(node, str):
        yield path, node
    elif isinstance(node, Mapping):
        for key, value in node.items():
            yield from _strings_in(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, Sequence):
        for index, item in enumerate(node):
            yield from _strings_in(item, f"{path}[{index}]")


# Workloads


def image_pin_violations(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """Every container image is pinned by tag or digest, and the tag is not `latest`."""
    pod_spec = pod_spec_of(resource_type, props)
    if pod_spec is None:
        return []
    injected = INJECTION_TEMPLATE_ANNOTATION in mapping_at(pod_metadata_of(resource_type, props), "annotations")
    violations = []
    for container in containers_of(pod_spec):
        image = str(lookup(container, "image") or "")
        if injected and image == INJECTED_IMAGE_PLACEHOLDER:
            continue
        try:
            _PINNED_IMAGE.validate_python(image)
        except ValidationError as error:
            reason = error.errors()[0]["ctx"]["error"]
            violations.append(f"{_describe_container(resource_type, props, container)}: image {image!r} {reason}")
    return violations


def container_resource_violations(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """Every container requests CPU and memory and has a memory limit."""
    pod_spec = pod_spec_of(resource_type, props)
    if pod_spec is None:
        return []
    violations = []
    for container in containers_of(pod_spec):
        missing = [
            f"resources.{kind}.{resource}"
            for kind, resource in (("requests", "cpu"), ("requests", "memory"), ("limits", "memory"))
            if not lookup(container, "resources", kind, resource)
        ]
        if missing:
            violations.append(
                f"{_describe_container(resource_type, props, container)} sets no {', '.join(missing)}: requests let "
                "the scheduler place the pod and a memory limit keeps a leak from starving its node"
            )
    return violations


def is_enrolled(namespace_props: Mapping[str, Any], workloads: Sequence[Resource]) -> bool:
    """Whether a namespace's pods join a mesh: labelled for Istio (sidecar injection, or ambient),
    annotated for Linkerd's injection or, as Consul enrols pod by pod, every workload's pods
    annotated for Consul's injection."""
    labels, annotations = labels_of(namespace_props), annotations_of(namespace_props)
    return (
        is_injected(labels)
        or labels.get(DATAPLANE_MODE_LABEL) == AMBIENT_DATAPLANE_MODE
        or annotations.get(LINKERD_INJECT_ANNOTATION) == "enabled"
        or (bool(workloads) and all(_consul_injected(workload) for workload in workloads))
    )


def _consul_injected(workload: Resource) -> bool:
    return consul_injected(mapping_at(pod_metadata_of(workload.type, workload.props), "annotations"))


def namespace_enrolment_violations(
    resources: Sequence[Resource], *, exempt_namespaces: Collection[str]
) -> list[Violation]:
    """Every namespace that holds workloads is declared by the stack and enrolled in the mesh (see `is_enrolled`)."""
    declared = {name_of(resource.props): resource for resource in resources if resource.type == NAMESPACE}
    violations = []
    for namespace, workloads in _workloads_by_namespace(resources).items():
        if namespace in exempt_namespaces:
            continue
        names = ", ".join(sorted(_describe(workload.type, workload.props) for workload in workloads))
        if namespace not in declared:
            violations.append(
                Violation(
                    f"namespace '{namespace}' holds workloads ({names}) but the stack does not declare it, so nothing "
                    "shows it is in the mesh: enrol it (servicemesh:mesh.injectedNamespaces or an app's namespace), "
                    "or add it to this policy's exemptNamespaces",
                    workloads[0].urn,
                )
            )
        elif not is_enrolled(declared[namespace].props, workloads):
            violations.append(
                Violation(
                    f"namespace '{namespace}' holds workloads ({names}) but is not enrolled in the mesh: "
                    f"{_enrolment_choices(installed_meshes(resources))}; or add it to this policy's exemptNamespaces",
                    declared[namespace].urn,
                )
            )
    return violations


def _workloads_by_namespace(resources: Sequence[Resource]) -> dict[str, list[Resource]]:
    by_namespace: dict[str, list[Resource]] = {}
    for resource in resources:
        if resource.type in WORKLOAD_TYPES:
            by_namespace.setdefault(namespace_of(resource.props), []).append(resource)
    return by_namespace


_ENROLMENT_CHOICES = {
    ISTIO: (
        f"label it {SIDECAR_INJECTION_LABEL}=enabled, {REVISION_LABEL}=<revision or tag> or "
        f"{DATAPLANE_MODE_LABEL}={AMBIENT_DATAPLANE_MODE} (Istio)"
    ),
    LINKERD: f"annotate it {LINKERD_INJECT_ANNOTATION}=enabled (Linkerd)",
    CONSUL: f"annotate every workload's pod template in it {CONSUL_INJECT_ANNOTATION}=true (Consul)",
}


def _enrolment_choices(meshes: Collection[str]) -> str:
    """How to enrol a namespace in the meshes the stack installs; in every mesh's terms when it installs
    none the pack recognises."""
    return ", or ".join(choice for mesh, choice in _ENROLMENT_CHOICES.items() if mesh in meshes or not meshes)


def disruption_budget_advisories(resources: Sequence[Resource]) -> list[Violation]:
    """Every Deployment or StatefulSet of more than one replica has a PodDisruptionBudget selecting its pods."""
    budgets = [resource.props for resource in resources if resource.type == POD_DISRUPTION_BUDGET]
    return [
        Violation(
            f"{_describe(resource.type, resource.props)} runs {replicas_of(resource.props)} replicas without a "
            "PodDisruptionBudget: a node drain may evict them all at once; add one with minAvailable: 1 selecting "
            "its pod labels",
            resource.urn,
        )
        for resource in resources
        if resource.type in (DEPLOYMENT, STATEFUL_SET)
        and replicas_of(resource.props) > 1
        and not any(_budget_selects(budget, resource) for budget in budgets)
    ]


def _budget_selects(budget: Mapping[str, Any], workload: Resource) -> bool:
    selector = mapping_at(budget, "spec", "selector", "matchLabels")
    pod_labels = mapping_at(pod_metadata_of(workload.type, workload.props), "labels")
    return (
        namespace_of(budget) == namespace_of(workload.props)
        and bool(selector)
        and all(pod_labels.get(label) == value for label, value in selector.items())
    )


# Add-on dashboards


def dashboard_exposure_violations(
    resource_type: str, props: Mapping[str, Any], *, dashboard_names: Collection[str]
) -> list[str]:
    """No add-on dashboard Service, or Helm value of an add-on chart, is a LoadBalancer or NodePort.

    A Service is a dashboard's when its `app.kubernetes.io/name` or `app` label is one of
    `dashboard_names`, or its name is one of them or starts with one and a dash (`grafana`,
    `prometheus-server`). A chart is an add-on's when its name contains one of them
    (`kiali-server`, `kube-prometheus-stack`); in its values, any `type` under a key ending in
    `service`, and any `service_type` or `serviceType`, counts as a Service type.
    """
    if resource_type == SERVICE and _is_dashboard_service(props, dashboard_names):
        service_type = lookup(props, "spec", "type")
        if service_type in EXPOSED_SERVICE_TYPES:
            return [
                f"{_describe(resource_type, props)} is a {service_type}, which exposes an add-on dashboard outside "
                "the cluster in prod: make it ClusterIP and reach it with kubectl port-forward, or through the "
                "ingress gateway behind authentication"
            ]
    if resource_type in HELM_INSTALL_TYPES and _is_dashboard_chart(str(lookup(props, "chart") or ""), dashboard_names):
        return [
            f"chart '{lookup(props, 'chart')}' sets values.{path} = {service_type}, which exposes an add-on dashboard "
            "outside the cluster in prod: set it to ClusterIP (or leave the chart's default) and use kubectl "
            "port-forward, or the ingress gateway behind authentication"
            for path, service_type in _service_types_in_values(mapping_at(props, "values"))
            if service_type in EXPOSED_SERVICE_TYPES
        ]
    return []


def _is_dashboard_service(props: Mapping[str, Any], dashboard_names: Collection[str]) -> bool:
    labels = labels_of(props)
    name = name_of(props)
    return (
        labels.get("app.kubernetes.io/name") in dashboard_names
        or labels.get("app") in dashboard_names
        or any(name == dashboard or name.startswith(f"{dashboard}-") for dashboard in dashboard_names)
    )


def _is_dashboard_chart(chart: str, dashboard_names: Collection[str]) -> bool:
    return any(dashboard in chart_name(chart) for dashboard in dashboard_names)


def _service_types_in_values(values: Mapping[str, Any], path: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted path, value) of every Service type a chart's values set, at any depth."""
    for key, value in values.items():
        key_path = f"{path}.{key}" if path else str(key)
        if isinstance(value, Mapping):
            if str(key).lower().endswith("service") and "type" in value:
                yield f"{key_path}.type", value["type"]
            yield from _service_types_in_values(value, key_path)
        elif str(key) in ("service_type", "serviceType"):
            yield key_path, value
        elif isinstance(value, Sequence) and not isinstance(value, str):
            for index, item in enumerate(value):
                if isinstance(item, Mapping):
                    yield from _service_types_in_values(item, f"{key_path}[{index}]")


def _describe(resource_type: str, props: Mapping[str, Any]) -> str:
    """`Kind namespace/name`, as a person would look the object up with kubectl."""
    return f"{resource_type.rsplit(':', 1)[-1]} {namespace_of(props)}/{name_of(props)}"


def _describe_container(resource_type: str, props: Mapping[str, Any], container: Mapping[str, Any]) -> str:
    return f"{_describe(resource_type, props)} container '{lookup(container, 'name')}'"
