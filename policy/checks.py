"""The policies' rules as pure functions over plain resources: the pack and the tests share them.

A resource check takes one resource's type token and props and returns the violation messages
(empty when it complies); a stack check takes every resource of the stack and returns
violations, each naming the resource it is about. Every message says what to change. The rules
in a mesh's terms are in its folder (`mesh/<provider>/policy.py`); the ones here walk the registry.
Pod security is in `policy.pod_security`, exposure in prod in `policy.exposure`.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from mesh.charts import HELM_INSTALL_TYPES
from mesh.guardrails import Resource, Violation, describe
from mesh.image_references import DEFAULT_REGISTRY, DEFAULT_REGISTRY_ALIASES, ImageReferenceError, image_reference
from mesh.implementations import DEFAULT, REGISTRY, RETIRED_LOCATIONS
from mesh.objects import (
    DEFAULT_NAMESPACE,
    DEPLOYMENT,
    NAMESPACE,
    STATEFUL_SET,
    WORKLOAD_PATCH_TYPES,
    WORKLOAD_TYPES,
    chart_name,
    containers_of,
    custom_cluster_scoped_kinds,
    is_kind,
    is_namespaced,
    kind_of,
    lookup,
    mapping_at,
    name_of,
    namespace_of,
    pod_metadata_of,
    pod_spec_of,
    replicas_of,
)

# A Helm chart version pinned exactly: SemVer 2 (as Helm reads it, `v` prefix allowed), no range.
_EXACT_CHART_VERSION = re.compile(r"v?[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?")
_LOCAL_CHART_PREFIXES = ("/", "./", "../", "file://")
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
    if not _EXACT_CHART_VERSION.fullmatch(version):
        found = f"version {version!r}" if version else "no version"
        violations.append(
            f"chart '{chart}' has {found}: pin one exact chart version such as 1.30.3 (no range, no latest), so "
            "every preview installs what was reviewed"
        )
    repository = str(lookup(props, "repositoryOpts", "repo") or "")
    violations += _chart_source_problems(chart, repository)
    if not _names_chart_source(chart, repository):
        violations.append(
            f"chart '{chart}' does not name its source: set repositoryOpts.repo to the chart's https:// "
            "repository, or give the chart as an oci:// reference or a local path (/…, ./…, ../…); a bare or "
            "'alias/name' chart resolves through the Helm configuration of whichever machine runs Pulumi"
        )
    return violations


def _names_chart_source(chart: str, repository: str) -> bool:
    # A chart given as a URL (`oci://…`, or an archive's `https://…/chart-1.2.3.tgz`) names its source too.
    return bool(repository) or "://" in chart or chart.startswith(_LOCAL_CHART_PREFIXES)


def _chart_source_problems(chart: str, repository: str) -> list[str]:
    """A chart source fetched over plain http, or with credentials written into its URL."""
    problems = []
    for field, url in (("repositoryOpts.repo", repository), ("chart", chart)):
        parts = urlsplit(url)
        if parts.scheme.lower() == "http":
            problems.append(
                f"chart '{chart_name(chart)}' comes from {field} over plain http://, so anyone on the path can "
                "swap the chart: use its https:// repository or an oci:// reference"
            )
        if "@" in parts.netloc:
            problems.append(
                f"chart '{chart_name(chart)}' has credentials in its {field} URL, which the stack's state and "
                "every preview show: remove them from the URL and set repositoryOpts.username and "
                "repositoryOpts.password from secrets"
            )
    return problems


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


# Tags that name whatever was pushed under them last, whatever their case (`LATEST` moves like `latest`).
MUTABLE_TAGS = frozenset({"latest", "stable", "main", "master", "edge"})
# A tag that names one exact release: a full X.Y.Z version in it (`1.30.3`, `v2.18.3`, `1.30.3-distroless`,
# `edge-26.8.3`); `1.30` or `3` name whatever patch release is pushed next.
_EXACT_VERSION_TAG = re.compile(r"(?<![0-9.])v?[0-9]+\.[0-9]+\.[0-9]+(?![0-9])")


def _container_images(resource_type: str, props: Mapping[str, Any]) -> Iterator[tuple[Mapping[str, Any], str]]:
    """(container, image) of every container of a pod template (init and ephemeral ones too), but an
    image a mesh's injector replaces and, in a patch, a container that leaves its image to the object."""
    pod_spec = pod_spec_of(resource_type, props, patches=True)
    if pod_spec is None:
        return
    annotations = mapping_at(pod_metadata_of(resource_type, props, patches=True), "annotations")
    for container in containers_of(pod_spec, ephemeral=True):
        image = lookup(container, "image")
        if image is None and resource_type in WORKLOAD_PATCH_TYPES:
            continue
        image = str(image or "")
        if not any(entry.policy.injects_image(annotations, image) for entry in REGISTRY):
            yield container, image


def image_pin_violations(resource_type: str, props: Mapping[str, Any], *, prod: bool) -> list[str]:
    """Every container image is pinned: by a digest, or by a tag that is none of `MUTABLE_TAGS` (in any
    case) and, in `prod`, names an exact version."""
    return [
        f"{_describe_container(resource_type, props, container)}: image {image!r} {problem}"
        for container, image in _container_images(resource_type, props)
        for problem in [_image_pin_problem(image, prod=prod)]
        if problem
    ]


def _image_pin_problem(image: str, *, prod: bool) -> str | None:
    if not image:
        return "is missing: name an image pinned by an exact version tag or a digest"
    try:
        image_reference(image)
    except ImageReferenceError as error:
        return f"cannot be pulled as written ({error}): give an image reference pinned by version or digest"
    name, _, digest = image.partition("@")
    last_part = name.rsplit("/", 1)[-1]
    tag = last_part.partition(":")[2]
    if digest:
        return None
    if not tag:
        return "is untagged, which pulls whatever 'latest' is: pin an exact version tag or a digest"
    if tag.lower() in MUTABLE_TAGS:
        return f"has the tag {tag!r}, which moves with every push: pin an exact version tag or a digest"
    if prod and not _EXACT_VERSION_TAG.search(tag):
        return f"has the tag {tag!r}, which names no exact version: in prod pin an exact version (1.2.3) or a digest"
    return None


def image_registry_violations(
    resource_type: str, props: Mapping[str, Any], *, allowed_registries: Collection[str]
) -> list[str]:
    """With `allowed_registries` (registries, or registry paths such as `quay.io/prometheus`), every
    container image comes from one of them; without, any registry is allowed."""
    if not allowed_registries:
        return []
    allowed = [_normalised_location(location) for location in allowed_registries]
    violations = []
    for container, image in _container_images(resource_type, props):
        try:
            reference = image_reference(image)
        except ImageReferenceError:
            continue  # container-image-pinned reports it
        location = f"{reference.registry}/{reference.repository}"
        if not any(location == prefix or location.startswith(f"{prefix}/") for prefix in allowed):
            violations.append(
                f"{_describe_container(resource_type, props, container)}: image {image!r} ({location}) is outside "
                f"the allowed registries ({', '.join(allowed_registries)}): mirror it into one of them and pull it "
                "from there, or add its registry to servicemesh:cluster.allowedRegistries"
            )
    return violations


def _normalised_location(location: str) -> str:
    """A registry path as `image_reference` writes an image's: Docker Hub under one name."""
    registry, slash, path = location.rstrip("/").partition("/")
    if registry in DEFAULT_REGISTRY_ALIASES:
        registry = DEFAULT_REGISTRY
    return f"{registry}{slash}{path}"


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
    # Any version: a chart rendered without the cluster's API versions may still write policy/v1beta1.
    budgets = [resource.props for resource in resources if is_kind(resource.type, "policy", "PodDisruptionBudget")]
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


# Mesh bypasses


def enrolled_namespaces(resources: Sequence[Resource]) -> frozenset[str]:
    """The namespaces the stack declares and enrols in a mesh: as a whole, or through any of its
    workloads (a mesh that enrols pod by pod)."""
    workloads = _workloads_by_namespace(resources)
    return frozenset(
        namespace
        for namespace, props in ((name_of(item.props), item.props) for item in resources if item.type == NAMESPACE)
        if is_enrolled(props, workloads.get(namespace, []))
        or any(is_enrolled(props, [workload]) for workload in workloads.get(namespace, []))
    )


def mesh_bypass_violations(resources: Sequence[Resource], *, config: Mapping[str, Any]) -> list[Violation]:
    """Nothing takes a workload of an enrolled namespace out of the mesh's mTLS or authorization, in
    any mesh's terms, each given the policy's `config`."""
    enrolled = enrolled_namespaces(resources)
    return [
        violation
        for entry in REGISTRY
        for violation in entry.policy.bypass_violations(resources, enrolled_namespaces=enrolled, config=config)
    ]


# System namespaces

# Kubernetes' own namespaces, and `default`, where an object without a namespace lands.
SYSTEM_NAMESPACES = ("kube-system", "kube-public", "kube-node-lease", DEFAULT_NAMESPACE)


def system_namespace_violations(resources: Sequence[Resource]) -> list[Violation]:
    """The stack creates nothing in a system namespace: no object, no chart installed there, and none
    of those namespaces declared as its own. An object without a namespace is in `default`, unless its
    kind is cluster-scoped (Kubernetes' own kinds, and custom ones by the stack's CRDs)."""
    cluster_scoped = custom_cluster_scoped_kinds(
        item.props for item in resources if is_kind(item.type, "apiextensions.k8s.io", "CustomResourceDefinition")
    )
    violations = []
    for resource in resources:
        if resource.type in HELM_INSTALL_TYPES:
            if "chart" not in resource.props:
                continue  # a real preview's v4 Chart, without its inputs: its objects are judged one by one
            namespace = str(lookup(resource.props, "namespace") or DEFAULT_NAMESPACE)
            subject = f"chart '{lookup(resource.props, 'chart')}' installs into"
        elif resource.type == NAMESPACE:
            namespace = name_of(resource.props)
            subject = "the stack declares"
        elif is_namespaced(resource.type, custom_cluster_scoped=cluster_scoped):
            namespace = namespace_of(resource.props)
            subject = f"{describe(resource.type, resource.props)} is in"
        else:
            continue
        if namespace in SYSTEM_NAMESPACES and not _is_exempt_from_system_namespaces(resource, namespace):
            violations.append(
                Violation(
                    f"{subject} the system namespace '{namespace}', where nothing of the stack belongs (and which no "
                    "mesh or pack rule treats as the stack's): put it in a namespace the stack declares",
                    resource.urn,
                )
            )
    return violations


def _is_exempt_from_system_namespaces(resource: Resource, namespace: str) -> bool:
    return any(
        (exemption.kind, exemption.namespace, exemption.name)
        == (kind_of(resource.type), namespace, name_of(resource.props))
        for entry in REGISTRY
        for exemption in entry.policy.system_namespace_exemptions
    )


def _describe_container(resource_type: str, props: Mapping[str, Any], container: Mapping[str, Any]) -> str:
    return f"{describe(resource_type, props)} container '{lookup(container, 'name')}'"
