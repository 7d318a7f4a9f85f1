"""The switch for node-less API servers: off in every real stack, and when on it stops every
readiness wait (objects and charts) and the hooks of Helm releases, and nothing else."""

from __future__ import annotations

import pulumi
from stack_harness import run_stack

from target_cluster import skip_readiness_waits

API_SERVER_ONLY = {"servicemesh:cluster.apiServerOnly": True}


def transform(type_, props, custom=True):
    return skip_readiness_waits(pulumi.ResourceTransformArgs(custom, type_, "object", props, pulumi.ResourceOptions()))


def test_real_stacks_keep_every_readiness_wait(any_stack):
    assert any_stack.stack_transforms == ()


def test_the_switch_registers_the_transform_for_the_whole_stack():
    assert run_stack("dev", API_SERVER_ONLY).stack_transforms == (skip_readiness_waits,)


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
