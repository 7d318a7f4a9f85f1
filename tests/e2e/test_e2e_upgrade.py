"""The canary upgrade on the real engine with the published charts: install revision A, add B, move
namespaces to B, remove A, with every namespace's label and every revision tag right at each step.

Both revisions render the published 1.30.3 `istiod` chart: Helm installs a chart from a local
folder whatever version the stack asks for, and the reference holds no 1.31 chart. A copy with a
bumped `Chart.yaml` would not change that (the stack names one folder per chart), so the walk
checks what the program does with two revisions of the real chart (each its own istiod, webhooks
and services, the revision tags' webhooks and services moving between releases), not what changes
between Istio 1.30 and 1.31.
"""

from __future__ import annotations

import pytest
from harness import kubectl_json
from test_revisions import STEPS

pytestmark = pytest.mark.e2e

ISTIO_NAMESPACE = "istio-system"


@pytest.fixture(scope="module")
def upgrade(new_stack):
    stack = new_stack("upgrade-e2e", "dev")
    stack.up()
    return stack


def istiod_revisions(cluster) -> set[str]:
    """The revision of each istiod Deployment in the cluster."""
    deployments = kubectl_json(cluster, "deployments", "-n", ISTIO_NAMESPACE, "-l", "app=istiod")["items"]
    return {item["metadata"]["labels"]["istio.io/rev"] for item in deployments}


def tag_targets(cluster) -> dict[str, str]:
    """The revision each revision tag sends pods to (its injection webhook's istiod), and that
    the tag's Service selects."""
    webhooks = kubectl_json(cluster, "mutatingwebhookconfigurations", "-l", "istio.io/tag")["items"]
    services = kubectl_json(cluster, "services", "-n", ISTIO_NAMESPACE, "-l", "istio.io/tag")["items"]
    by_webhook = {
        item["metadata"]["labels"]["istio.io/tag"]: item["webhooks"][0]["clientConfig"]["service"]["name"].removeprefix(
            "istiod-"
        )
        for item in webhooks
    }
    by_service = {
        item["metadata"]["labels"]["istio.io/tag"]: item["spec"]["selector"]["istio.io/rev"] for item in services
    }
    assert by_service == by_webhook, "a revision tag's Service and webhook disagree"
    return by_webhook


def revision_label(cluster, namespace) -> str:
    return kubectl_json(cluster, "namespace", namespace)["metadata"]["labels"]["istio.io/rev"]


def apply(stack, step):
    stack.configure(STEPS[step])
    stack.up()


def test_the_stack_starts_on_one_revision(upgrade, cluster):
    assert istiod_revisions(cluster) == {"1-30-3"}
    assert tag_targets(cluster) == {"stable": "1-30-3"}
    assert revision_label(cluster, "sample") == "stable"


def test_step_1_installs_the_new_revision_beside_the_old(upgrade, cluster):
    apply(upgrade, "1-add-new-revision")

    assert istiod_revisions(cluster) == {"1-30-3", "1-31-0"}
    assert tag_targets(cluster) == {"stable": "1-30-3"}
    assert revision_label(cluster, "sample") == "stable"


def test_step_2_moves_one_namespace_to_the_canary(upgrade, cluster):
    apply(upgrade, "2-canary-one-namespace")

    assert tag_targets(cluster) == {"stable": "1-30-3", "canary": "1-31-0"}
    assert revision_label(cluster, "sample") == "canary"
    assert revision_label(cluster, "sandbox") == "stable"


# Found by the published charts, not fixed yet: moving a tag moves istiod's revision-tag objects
# (Service `istiod-revision-tag-<tag>`, its webhooks) from one istiod chart to the other; Pulumi
# creates the new chart's copy before it deletes the old one, and server-side apply refuses the
# second field manager. Strict: these fail the suite the day they pass.
MOVING_A_TAG_CONFLICTS = pytest.mark.xfail(
    strict=True,
    reason="a revision tag's objects move between istiod charts: server-side apply conflict on "
    "istiod-revision-tag-<tag> (open bug of the canary walk on the published charts)",
)


@MOVING_A_TAG_CONFLICTS
def test_step_3_moves_every_namespace_with_the_stable_tag(upgrade, cluster):
    apply(upgrade, "3-move-stable")

    assert tag_targets(cluster) == {"stable": "1-31-0", "canary": "1-31-0"}
    assert revision_label(cluster, "sample") == "stable"
    assert revision_label(cluster, "sandbox") == "stable"
    assert istiod_revisions(cluster) == {"1-30-3", "1-31-0"}


@MOVING_A_TAG_CONFLICTS
def test_step_4_removes_the_old_revision(upgrade, cluster):
    apply(upgrade, "4-remove-old-revision")

    assert istiod_revisions(cluster) == {"1-31-0"}
    assert tag_targets(cluster) == {"stable": "1-31-0"}
    assert revision_label(cluster, "sample") == "stable"
    assert upgrade.outputs()["istioRevisions"] == {"1-31-0": {"tags": ["stable"], "version": "1.31.0"}}
