"""The footprint read from each chart's values is what the published chart runs with them.

The footprint (`review.footprint.stack_footprint`) sizes every chart install from the values the
program passes it, through each mesh's reader (`mesh/<provider>/footprint.py`) and the add-ons'
extractors: they know which values keys size which pods. Here each stack's charts are rendered from
the published charts (`../shared/reference/helm-charts`) with those values, as
tests/test_policy_charts.py renders them, and what the rendered pods request is added up the way a
cluster runs them: each Deployment and StatefulSet at its replicas (its autoscaler's minimum when
the chart renders one for it), each DaemonSet on one node, with the proxy a mesh injects at
admission into the pods it injects. A values key the chart ignores, or a chart default a reader
does not know, makes the two differ.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from stack_harness import stack_names, stack_run
from test_policy_charts import rendered

from mesh.footprint import InstalledCharts, NamespaceObject, PodTemplate
from mesh.guardrails import Resource
from mesh.implementations import FOOTPRINTS
from mesh.objects import NAMESPACE, items_at, kind_of, lookup, mapping_at, name_of, namespace_of, replicas_of
from review import images
from review.footprint import installed_charts, stack_footprint
from settings.quantities import Requests, parse_quantity

pytestmark = pytest.mark.charts

# Pods that run to completion, at install or on a schedule: no standing footprint.
RUN_TO_COMPLETION_KINDS = frozenset({"Job", "CronJob"})
REPLICATED_KINDS = frozenset({"Deployment", "StatefulSet"})
# One pod per node; the footprint counts node agents for one node.
PER_NODE_KIND = "DaemonSet"
AUTOSCALER_KIND = "HorizontalPodAutoscaler"


def objects_by_install(stack: str, helm: str) -> dict[str, list[Resource]]:
    """The objects each chart install of `stack` renders, by the install's resource name."""
    run = stack_run(stack)
    urns = {resource.name: resource.urn for resource in run.resources}
    objects = rendered(stack, helm)[0]
    # A rendered object's URN is its install's, then `$<type>::<install>:<namespace>/<name>`.
    return {
        install.resource: [item for item in objects if item.urn.startswith(f"{urns[install.resource]}$")]
        for install in images.chart_installs(run.resources)
    }


def running_containers(pod_spec: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The containers that run for the pod's life: its containers and its native sidecars (init
    containers with `restartPolicy: Always`, which Kubernetes starts first and keeps running, as
    Linkerd's charts run their proxy); other init containers finish before the pod runs."""
    native_sidecars = [
        container for container in items_at(pod_spec, "initContainers") if container.get("restartPolicy") == "Always"
    ]
    return [*items_at(pod_spec, "containers"), *native_sidecars]


def container_requests(container: Mapping[str, Any]) -> Requests:
    requests = lookup(container, "resources", "requests") or {}
    return Requests(parse_quantity(str(requests.get("cpu", 0))), parse_quantity(str(requests.get("memory", 0))))


def injected_requests(pod: PodTemplate, namespace: NamespaceObject, charts: InstalledCharts) -> Requests:
    """What the meshes' injectors add to `pod` at admission, as review/footprint.py asks them. A pod
    whose template already has the sidecar's container (Istio's gateway renders `istio-proxy` with
    the image `auto`) gets no second one: the injector fills that container in, and the template's
    resources stay."""
    in_template = {container.get("name") for container in running_containers(mapping_at(pod, "spec"))}
    return sum(
        (
            footprint.injector.sidecar_requests(charts, pod)
            for footprint in FOOTPRINTS.values()
            if footprint.injector.sidecar not in in_template and footprint.injector.injects(pod, namespace)
        ),
        Requests(),
    )


def autoscaled_minimums(objects: list[Resource]) -> dict[tuple[str, str, str], int]:
    """The `minReplicas` (Kubernetes' default of 1) of each autoscaler among `objects`, by the
    namespace, kind and name of the workload it scales."""
    minimums = {}
    for item in objects:
        if kind_of(item.type) == AUTOSCALER_KIND:
            target = mapping_at(item.props, "spec", "scaleTargetRef")
            key = (namespace_of(item.props), target.get("kind"), target.get("name"))
            minimums[key] = int(lookup(item.props, "spec", "minReplicas") or 1)
    return minimums


def pods_of(workload: Resource, minimums: Mapping[tuple[str, str, str], int]) -> int:
    """How many pods of `workload` the footprint counts: one node's for a DaemonSet; else the
    minimum of the autoscaler the chart renders for it, or its `spec.replicas`."""
    kind = kind_of(workload.type)
    if kind == PER_NODE_KIND:
        return 1
    if kind not in REPLICATED_KINDS:
        pytest.fail(f"{workload.name}: a {kind}, whose pods this test does not know how to count")
    return minimums.get((namespace_of(workload.props), kind, name_of(workload.props)), replicas_of(workload.props))


def rendered_requests(
    objects: list[Resource], *, namespaces: Mapping[str, NamespaceObject], charts: InstalledCharts
) -> Requests:
    """What the pods of one chart's rendered objects request, with what the meshes inject into them."""
    minimums = autoscaled_minimums(objects)
    total = Requests()
    for workload in objects:
        pod = mapping_at(workload.props, "spec", "template")
        if not pod or kind_of(workload.type) in RUN_TO_COMPLETION_KINDS:
            continue
        own = sum(
            (container_requests(container) for container in running_containers(mapping_at(pod, "spec"))), Requests()
        )
        injected = injected_requests(pod, namespaces.get(namespace_of(workload.props), {}), charts)
        total += (own + injected) * pods_of(workload, minimums)
    return total


def described(requests: Requests) -> str:
    figures = requests.describe()
    return f"{figures['cpu']} CPU, {figures['memoryMiB']} MiB"


@pytest.mark.parametrize("stack", stack_names())
def test_each_chart_install_is_sized_as_what_its_published_chart_runs_with_its_values(helm, stack):
    run = stack_run(stack)
    read = {component.component: component for component in stack_footprint(run).components}
    charts = installed_charts(run)
    namespaces = {name_of(namespace.inputs): namespace.inputs for namespace in run.of_type(NAMESPACE)}

    differences = []
    runs = {}
    for install, objects in objects_by_install(stack, helm).items():
        runs[install] = rendered_requests(objects, namespaces=namespaces, charts=charts)
        component = read[install]
        if component.unknown is not None:
            differences.append(
                f"{install}: the reader cannot size it ({component.unknown}), "
                f"the chart renders {described(runs[install])}"
            )
        elif component.total != runs[install]:
            differences.append(
                f"{install}: the reader counts {described(component.total)}, "
                f"the chart renders {described(runs[install])}"
            )

    assert differences == [], "\n".join(differences)
    assert sum(runs.values(), Requests()) != Requests(), "the stack's charts render no pods at all"
