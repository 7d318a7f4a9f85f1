"""`python -m review adopt`: before the first `pulumi up` on a cluster where the mesh already runs,
which objects the update adopts in place (with each declared value the cluster holds
differently), which it creates, and a refusal of anything that would replace or delete.
tests/e2e/test_e2e_adoption.py adopts a real `helm install` on a live API server."""

from __future__ import annotations

import pytest

from review.adopt import adoption_plan, differences
from review.drift import DriftError


def create(declared, type_token="kubernetes:core/v1:Namespace"):
    return {
        "op": "create",
        "urn": f"urn:pulumi:dev::servicemesh::{type_token}::x",
        "newState": {"type": type_token, "inputs": declared},
    }


def namespace(name, **labels):
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def cluster_of(*objects):
    held = {(item["kind"], item["metadata"].get("namespace", ""), item["metadata"]["name"]): item for item in objects}
    return lambda api_version, kind, namespace, name: held.get((kind, namespace, name))


def test_an_existing_object_is_adopted_and_a_missing_one_created():
    plan = adoption_plan(
        {"steps": [create(namespace("istio-system")), create(namespace("sample"))]},
        cluster_of(namespace("istio-system")),
    )
    assert plan.lines() == ["adopt Namespace istio-system: unchanged", "create Namespace sample"]
    assert plan.refused == ()


def test_each_declared_value_the_cluster_holds_differently_is_listed():
    declared = namespace("sample", **{"istio.io/rev": "stable"})
    live = namespace("sample", **{"istio.io/rev": "canary", "team": "a"})
    plan = adoption_plan({"steps": [create(declared)]}, cluster_of(live))
    assert plan.lines() == [
        "adopt Namespace sample",
        '  metadata.labels["istio.io/rev"]: live "canary", declared "stable"',
    ]


def test_what_only_the_cluster_sets_is_not_a_difference():
    declared_container = {"name": "discovery", "ports": [{"containerPort": "8080"}]}
    live_container = {
        "name": "discovery",
        "ports": [{"containerPort": 8080, "protocol": "TCP"}],
        "terminationMessagePath": "/dev/termination-log",
    }
    declared = {"metadata": {"name": "istiod"}, "spec": {"template": {"spec": {"containers": [declared_container]}}}}
    live = {
        "metadata": {"name": "istiod", "uid": "u", "annotations": {"meta.helm.sh/release-name": "istiod"}},
        "spec": {"replicas": 1, "template": {"spec": {"containers": [live_container]}}},
    }
    assert list(differences(declared, live)) == []


def test_pulumis_own_annotations_are_not_differences():
    declared = {"metadata": {"name": "x", "annotations": {"pulumi.com/patchForce": "true", "team": "a"}}}
    live = {"metadata": {"name": "x", "annotations": {}}}
    assert [difference.path for difference in differences(declared, live)] == ["metadata.annotations.team"]


def test_a_list_of_another_length_is_one_difference():
    declared = {"spec": {"hosts": ["a", "b"]}}
    live = {"spec": {"hosts": ["a"]}}
    (difference,) = differences(declared, live)
    assert (difference.path, difference.live, difference.declared) == ("spec.hosts", ["a"], ["a", "b"])


@pytest.mark.parametrize("op", ["replace", "delete", "create-replacement", "delete-replaced"])
def test_a_plan_that_replaces_or_deletes_is_refused(op):
    step = {"op": op, "urn": "urn:pulumi:dev::servicemesh::kubernetes:apps/v1:Deployment::istiod"}
    plan = adoption_plan({"steps": [step]}, cluster_of())
    assert plan.refused == (f"{op} urn:pulumi:dev::servicemesh::kubernetes:apps/v1:Deployment::istiod",)
    assert plan.lines()[0].startswith("REFUSED ")


def test_charts_and_components_are_not_objects_to_adopt():
    chart = {
        "op": "create",
        "urn": "u",
        "newState": {"type": "kubernetes:helm.sh/v4:Chart", "inputs": {"chart": "istiod"}},
    }
    component = {"op": "create", "urn": "u", "newState": {"type": "servicemesh:mesh:IstioMesh", "inputs": {}}}
    plan = adoption_plan({"steps": [chart, component]}, cluster_of())
    assert (plan.adopted, plan.new) == ((), ())


def test_a_failed_preview_gives_no_plan():
    failed = {"steps": [], "diagnostics": [{"severity": "error", "message": "cluster unreachable"}]}
    with pytest.raises(DriftError, match="cluster unreachable"):
        adoption_plan(failed, cluster_of())
