"""The pack over what the published charts render: every object a real `pulumi preview` shows it.

Under mocks each `helm.v4.Chart` is one resource and the objects it renders are invisible, so
tests/test_policy_stacks.py judges the program's own objects and the charts' inputs only. Here each
stack's charts are rendered from the published charts (`../shared/reference/helm-charts`) with the
program's values, as `python -m review images --charts` renders them, and every policy judges them
beside what the program registers: what the preview of a real stack would report. Every finding
was made a values fix or an exemption, named per object with its reason, in the mesh's folder.
"""

from __future__ import annotations

import copy
import functools

import pytest
from reference_data import HELM_CHARTS
from stack_harness import stack_config, stack_names, stack_run
from test_chart_reference import UNSIZABLE_INIT_CONTAINERS

from mesh.charts import HELM_RELEASE_TYPE
from mesh.implementations import REGISTRY
from mesh.objects import (
    custom_cluster_scoped_kinds,
    is_namespaced,
    kind_of,
    lookup,
    name_of,
    namespace_of,
    pod_spec_of,
    type_token_of,
)
from policy.checks import Resource
from policy.offline import Finding, evaluate
from policy.pod_security import pod_security_findings
from review import images

pytestmark = pytest.mark.charts


@functools.cache
def rendered(stack: str, helm: str) -> tuple[list[Resource], frozenset[str]]:
    """What the program registers, and every object its charts render; with the URNs of the objects
    that a Helm release installs (which a real preview never shows the pack: the release is one resource)."""
    run = stack_run(stack)
    resources = [Resource(item.type, copy.deepcopy(item.inputs), item.urn, item.name) for item in run.resources]
    urns_by_install = {item.name: item.urn for item in run.resources}
    released = {item.name for item in run.resources if item.type == HELM_RELEASE_TYPE}
    kube_version = images.pinned_kubernetes_version()
    objects = []
    for install in images.chart_installs(run.resources):
        directory = images.chart_directory(install, charts=HELM_CHARTS)
        objects += [
            (install, manifest)
            for manifest in images.render_chart(install, directory=directory, helm=helm, kube_version=kube_version)
        ]
    cluster_scoped = custom_cluster_scoped_kinds(
        manifest for _, manifest in objects if manifest.get("kind") == "CustomResourceDefinition"
    )
    released_urns = set()
    for install, manifest in objects:
        type_token = type_token_of(manifest)
        if is_namespaced(type_token, custom_cluster_scoped=cluster_scoped) and not lookup(
            manifest, "metadata", "namespace"
        ):
            # As the provider does: a namespaced object without a namespace goes to the chart's.
            manifest["metadata"]["namespace"] = install.namespace
        name = f"{install.resource}:{namespace_of(manifest)}/{name_of(manifest)}"
        urn = f"{urns_by_install[install.resource]}${type_token}::{name}"
        resources.append(Resource(type_token, manifest, urn, name))
        if install.resource in released:
            released_urns.add(urn)
    return resources, frozenset(released_urns)


def is_unsizable_init_container(finding: Finding) -> bool:
    """`container-resources-set` on an init container that its chart offers no key to size."""
    return finding.policy == "container-resources-set" and any(
        f"/{workload} container '{container}'" in finding.message for workload, container in UNSIZABLE_INIT_CONTAINERS
    )


@pytest.mark.parametrize("stack", stack_names())
def test_every_object_the_charts_render_passes_every_policy(helm, stack):
    resources, released = rendered(stack, helm)

    reported = evaluate(resources, stack_config=stack_config(stack))

    # A Helm release's objects are judged too, though no preview shows them to the pack; Consul's servers'
    # locality-init is the one container its chart renders without resources and no value sizes.
    assert [
        (finding.policy, finding.message)
        for finding in reported
        if not (finding.urn in released and is_unsizable_init_container(finding))
    ] == []
    assert len(resources) > len(stack_run(stack).resources)


def test_every_pod_security_exemption_is_still_needed_by_a_chart(helm):
    """An exemption that no rendered object needs any more goes, so that it cannot cover a later one."""
    found = set()
    for stack in stack_names():
        for resource in rendered(stack, helm)[0]:
            pod_spec = pod_spec_of(resource.type, resource.props)
            if pod_spec is not None:
                found |= {
                    (kind_of(resource.type), name_of(resource.props), container, finding)
                    for container, finding in pod_security_findings(pod_spec, patch=False)
                }
                if lookup(pod_spec, "automountServiceAccountToken") is not False:
                    found.add((kind_of(resource.type), name_of(resource.props), None, "automountServiceAccountToken"))

    unneeded = [
        (exemption.kind, exemption.name, exemption.container, finding)
        for entry in REGISTRY
        for exemption in entry.policy.pod_security_exemptions
        for finding in sorted(exemption.allowed)
        if (exemption.kind, exemption.name, exemption.container, finding) not in found
    ]

    assert unneeded == []


def test_every_system_namespace_exemption_is_still_needed_by_a_chart(helm):
    found = {
        (kind_of(resource.type), namespace_of(resource.props), name_of(resource.props))
        for stack in stack_names()
        for resource in rendered(stack, helm)[0]
    }

    assert [
        exemption
        for entry in REGISTRY
        for exemption in entry.policy.system_namespace_exemptions
        if (exemption.kind, exemption.namespace, exemption.name) not in found
    ] == []
