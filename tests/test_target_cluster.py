"""How a stack treats its cluster. Every stack owns the fields it declares: each Kubernetes object,
its charts' objects too, takes its fields back from whoever changed them by hand. The switch for
node-less API servers is off in every real stack, and when on it stops every readiness wait
(objects and charts) and the hooks of Helm releases, and nothing else."""

from __future__ import annotations

import pulumi
import yaml
from stack_harness import PROJECT_ROOT, run_stack

from target_cluster import cluster_transform, own_declared_fields, skip_readiness_waits

API_SERVER_ONLY = {"servicemesh:cluster.apiServerOnly": True}


def transform(type_, props, custom=True, stack_transform=skip_readiness_waits):
    return stack_transform(pulumi.ResourceTransformArgs(custom, type_, "object", props, pulumi.ResourceOptions()))


def test_every_stack_owns_its_declared_fields_and_keeps_every_readiness_wait(any_stack):
    assert any_stack.stack_transforms == (own_declared_fields,)


def test_the_switch_adds_the_skipped_waits_to_the_one_transform_for_the_whole_stack():
    (registered,) = run_stack("dev", API_SERVER_ONLY).stack_transforms
    deployment = {"metadata": {"name": "app"}, "spec": {}}

    owned_and_not_awaited = transform("kubernetes:apps/v1:Deployment", deployment, stack_transform=registered)
    chart = transform("kubernetes:helm.sh/v4:Chart", {"chart": "istiod"}, custom=False, stack_transform=registered)

    assert owned_and_not_awaited.props["metadata"]["annotations"] == {
        "pulumi.com/patchForce": "true",
        "pulumi.com/skipAwait": "true",
    }
    assert chart.props == {"chart": "istiod", "skipAwait": True}
    assert cluster_transform(api_server_only=False) is own_declared_fields


def test_objects_force_their_declared_fields_back_and_keep_their_own_annotations():
    deployment = {"metadata": {"name": "app", "annotations": {"team": "a"}}, "spec": {"replicas": 2}}
    result = transform("kubernetes:apps/v1:Deployment", deployment, stack_transform=own_declared_fields)

    assert result.props == {
        "metadata": {"name": "app", "annotations": {"team": "a", "pulumi.com/patchForce": "true"}},
        "spec": {"replicas": 2},
    }


def test_charts_releases_and_other_resources_are_not_objects_to_force():
    for type_, custom in [
        ("kubernetes:helm.sh/v4:Chart", False),
        ("kubernetes:helm.sh/v3:Release", True),
        ("random:index/randomPassword:RandomPassword", True),
        ("servicemesh:mesh:IstioMesh", False),
    ]:
        assert transform(type_, {"chart": "istiod"}, custom=custom, stack_transform=own_declared_fields) is None


def test_objects_are_annotated_and_keep_their_own_annotations():
    result = transform(
        "kubernetes:apps/v1:Deployment", {"metadata": {"name": "app", "annotations": {"team": "a"}}, "spec": {}}
    )

    assert result.props["metadata"] == {
        "name": "app",
        "annotations": {"team": "a", "pulumi.com/skipAwait": "true"},
    }
    assert result.props["spec"] == {}


def test_charts_skip_their_waits():
    assert transform("kubernetes:helm.sh/v4:Chart", {"chart": "istiod"}, custom=False).props == {
        "chart": "istiod",
        "skipAwait": True,
    }


def test_releases_neither_wait_nor_run_their_hooks_whose_jobs_never_run_without_a_node():
    # An atomic release waits for every object whatever skipAwait says.
    assert transform("kubernetes:helm.sh/v3:Release", {"chart": "consul", "atomic": True}).props == {
        "chart": "consul",
        "skipAwait": True,
        "atomic": False,
        "disableWebhooks": True,
        "disableCRDHooks": True,
    }


def test_other_resources_are_left_alone():
    assert transform("random:index/randomPassword:RandomPassword", {"length": 24}) is None
    assert transform("servicemesh:mesh:IstioMesh", {}, custom=False) is None


def test_objects_a_chart_already_marks_are_left_alone():
    # The chart's own `skipAwait` marks its objects; nothing is sent back for them.
    marked = {"metadata": {"name": "istiod", "annotations": {"pulumi.com/skipAwait": "true"}}, "spec": {}}

    assert transform("kubernetes:apps/v1:Deployment", marked) is None


def test_the_provider_updates_secrets_and_config_maps_in_place():
    # Every name the stacks give is fixed: a replace would delete and re-create the object (a moment
    # without a trust bundle), and prod's protected `cacerts` would refuse every renewal and rotation.
    config = yaml.safe_load((PROJECT_ROOT / "Pulumi.yaml").read_text())["config"]

    assert config["kubernetes:enableSecretMutable"] == {"value": True}
    assert config["kubernetes:enableConfigMapMutable"] == {"value": True}
