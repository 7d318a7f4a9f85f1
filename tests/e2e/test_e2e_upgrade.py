"""The canary upgrade on the real engine: install revision A, add B, move namespaces to B,
remove A, with every namespace's label right at each step."""

from __future__ import annotations

import pytest
from harness import kubectl_json
from test_revisions import STEPS

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def upgrade(new_stack):
    stack = new_stack("upgrade-e2e", "dev")
    stack.up()
    return stack


def istiod_releases(cluster) -> set[str]:
    configmaps = kubectl_json(cluster, "configmaps", "-n", "istio-system")["items"]
    return {
        item["metadata"]["name"].removesuffix("-received-values")
        for item in configmaps
        if item["metadata"]["name"].startswith("istiod-")
    }


def revision_label(cluster, namespace) -> str:
    return kubectl_json(cluster, "namespace", namespace)["metadata"]["labels"]["istio.io/rev"]


def apply(stack, step):
    stack.configure(STEPS[step])
    stack.up()


def test_the_stack_starts_on_one_revision(upgrade, cluster):
    assert istiod_releases(cluster) == {"istiod-1-30-3"}
    assert revision_label(cluster, "sample") == "stable"


def test_step_1_installs_the_new_revision_beside_the_old(upgrade, cluster):
    apply(upgrade, "1-add-new-revision")

    assert istiod_releases(cluster) == {"istiod-1-30-3", "istiod-1-31-0"}
    assert revision_label(cluster, "sample") == "stable"


def test_step_2_moves_one_namespace_to_the_canary(upgrade, cluster):
    apply(upgrade, "2-canary-one-namespace")

    assert revision_label(cluster, "sample") == "canary"
    assert revision_label(cluster, "sandbox") == "stable"


def test_step_3_moves_every_namespace_with_the_stable_tag(upgrade, cluster):
    apply(upgrade, "3-move-stable")

    assert revision_label(cluster, "sample") == "stable"
    assert revision_label(cluster, "sandbox") == "stable"
    assert istiod_releases(cluster) == {"istiod-1-30-3", "istiod-1-31-0"}


def test_step_4_removes_the_old_revision(upgrade, cluster):
    apply(upgrade, "4-remove-old-revision")

    assert istiod_releases(cluster) == {"istiod-1-31-0"}
    assert revision_label(cluster, "sample") == "stable"
    assert upgrade.outputs()["istioRevisions"] == {"1-31-0": {"tags": ["stable"], "version": "1.31.0"}}
