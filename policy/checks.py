"""The policies' rules as pure functions over plain resources: the pack and the tests share them.

A resource check takes one resource's type token and props and returns the violation messages
(empty when it complies); a stack check takes every resource of the stack and returns
violations, each naming the resource it is about. Every message says what to change. The rules
in a mesh's terms are in its folder (`mesh/<provider>/policy.py`); the ones here walk the registry.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import Any

from pydantic import TypeAdapter, ValidationError

from mesh.charts import HELM_INSTALL_TYPES
from mesh.guardrails import Resource, Violation, describe
from mesh.implementations import DEFAULT, REGISTRY
from mesh.objects import (
    DEPLOYMENT,
    NAMESPACE,
    POD_DISRUPTION_BUDGET,
    SERVICE,
    STATEFUL_SET,
    WORKLOAD_TYPES,
    chart_name,
    containers_of,
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

EXPOSED_SERVICE_TYPES = frozenset({"LoadBalancer", "NodePort"})
# A Helm chart version pinned exactly: SemVer 2 (as Helm reads it, `v` prefix allowed), no range.
_EXACT_CHART_VERSION = re.compile(r"^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$")
_LOCAL_CHART_PREFIXES = ("/", "./", "../", "file://")
_PINNED_IMAGE = TypeAdapter(PinnedImage)
# The chart of each mesh's control plane: how the pack tells which mesh a stack runs. Not the stack's
# config: the pack also judges real previews, and what counts is what the stack installs.
_CONTROL_PLANE_CHARTS = {entry.control_plane_chart: entry.provider for entry in REGISTRY}


# Meshes


def installed_meshes(resources: Sequence[Resource]) -> frozenset[str]:
    """The meshes (`mesh.provider` values) whose control plane the stack installs.

    A Helm install names its chart under mocks and for a Helm release (whose inputs the engine
    passes); a real preview passes no inputs of a `helm.sh/v4:Chart`, only its rendered objects,
    among which a mesh may recognise its own (`MeshGuardrails.shows_control_plane`).
    """
    return frozenset(mesh for mesh in map(_mesh_shown_by, resources) if mesh is not None)


def _mesh_shown_by(resource: Resource) -> str | None:
    """The mesh whose control plane `resource` installs or belongs to, if any."""
    if resource.type in HELM_INSTALL_TYPES:
        return _CONTROL_PLANE_CHARTS.get(chart_name(str(lookup(resource.props, "chart") or "")))
    return next((entry.provider for entry in REGISTRY if entry.policy.shows_control_plane(resource)), None)


# mTLS


def mesh_wide_mtls_violations(resources: Sequence[Resource], *, config: Mapping[str, Any]) -> list[Violation]:
    """mTLS is required mesh-wide, in the terms of each mesh the stack installs (the default mesh's
    when it installs none the pack recognises), each given the policy's `config`."""
    meshes = installed_meshes(resources) or {DEFAULT.provider}
    return [
        violation
        for entry in REGISTRY
        if entry.provider in meshes
        for violation in entry.policy.mtls_violations(resources, config)
    ]


# Plaintext


def plaintext_mode_violations(
    resource_type: str, props: Mapping[str, Any], *, allowed_namespaces: Collection[str]
) -> list[str]:
    """No object outside `allowed_namespaces` lets a workload accept plaintext, in any mesh's terms."""
    return [
        violation
        for entry in REGISTRY
        for violation in entry.policy.plaintext_violations(resource_type, props, allowed_namespaces=allowed_namespaces)
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
    subject = describe(resource_type, props) if "metadata" in props else resource_type.rsplit(":", 1)[-1]
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
    """Every container image is pinned by tag or digest, and the tag is not `latest` (but for an image
    a mesh's injector replaces)."""
    pod_spec = pod_spec_of(resource_type, props)
    if pod_spec is None:
        return []
    annotations = mapping_at(pod_metadata_of(resource_type, props), "annotations")
    violations = []
    for container in containers_of(pod_spec):
        image = str(lookup(container, "image") or "")
        if any(entry.policy.injects_image(annotations, image) for entry in REGISTRY):
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
    """Whether a namespace's pods (`workloads`) join a mesh, in any mesh's terms."""
    return any(entry.policy.enrols(namespace_props, workloads) for entry in REGISTRY)


def namespace_enrolment_violations(
    resources: Sequence[Resource], *, exempt_namespaces: Collection[str]
) -> list[Violation]:
    """Every namespace that holds workloads is declared by the stack and enrolled in the mesh (see `is_enrolled`)."""
    declared = {name_of(resource.props): resource for resource in resources if resource.type == NAMESPACE}
    violations = []
    for namespace, workloads in _workloads_by_namespace(resources).items():
        if namespace in exempt_namespaces:
            continue
        names = ", ".join(sorted(describe(workload.type, workload.props) for workload in workloads))
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


def _enrolment_choices(meshes: Collection[str]) -> str:
    """How to enrol a namespace in the meshes the stack installs; in every mesh's terms when it installs
    none the pack recognises."""
    return ", or ".join(entry.policy.enrolment_choice for entry in REGISTRY if entry.provider in meshes or not meshes)


def disruption_budget_advisories(resources: Sequence[Resource]) -> list[Violation]:
    """Every Deployment or StatefulSet of more than one replica has a PodDisruptionBudget selecting its pods."""
    budgets = [resource.props for resource in resources if resource.type == POD_DISRUPTION_BUDGET]
    return [
        Violation(
            f"{describe(resource.type, resource.props)} runs {replicas_of(resource.props)} replicas without a "
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
                f"{describe(resource_type, props)} is a {service_type}, which exposes an add-on dashboard outside "
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


def _describe_container(resource_type: str, props: Mapping[str, Any], container: Mapping[str, Any]) -> str:
    return f"{describe(resource_type, props)} container '{lookup(container, 'name')}'"
