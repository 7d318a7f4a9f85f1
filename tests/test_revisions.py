"""Upgrading Istio as a canary: four reviewed stack changes, each safe to stop after.

The walk starts from the real prod stack file (revision 1-30-3, tag `stable`) and upgrades it to
1.31.0: (1) add revision 1-31-0 beside it; (2) point `canary` at it and move one namespace;
(3) move `stable` to it; (4) remove 1-30-3.
"""

from __future__ import annotations

import pytest
from stack_harness import DELETE, run_program, run_stack, stack_config

from mesh.istio.artifacts import ISTIO_CANARY_TARGET_VERSION, ISTIO_CHART_REPOSITORY
from settings.loader import ConfigError

OLD = {"name": "1-30-3", "version": "1.30.3"}
NEW = {"name": "1-31-0", "version": "1.31.0"}
CHART = "kubernetes:helm.sh/v4:Chart"

STEPS = {
    "1-add-new-revision": {
        "servicemesh:mesh.istio.version": "1.31.0",
        "servicemesh:mesh.istio.revisions": [OLD, NEW],
        "servicemesh:mesh.istio.revisionTags": {"stable": "1-30-3"},
    },
    "2-canary-one-namespace": {
        "servicemesh:mesh.istio.version": "1.31.0",
        "servicemesh:mesh.istio.revisions": [OLD, NEW],
        "servicemesh:mesh.istio.revisionTags": {"stable": "1-30-3", "canary": "1-31-0"},
        "servicemesh:mesh.istio.namespaceRevisions": {"sample": "canary"},
    },
    "3-move-stable": {
        "servicemesh:mesh.istio.version": "1.31.0",
        "servicemesh:mesh.istio.revisions": [OLD, NEW],
        "servicemesh:mesh.istio.revisionTags": {"stable": "1-31-0", "canary": "1-31-0"},
    },
    "4-remove-old-revision": {
        "servicemesh:mesh.istio.version": "1.31.0",
        "servicemesh:mesh.istio.revisions": [NEW],
        "servicemesh:mesh.istio.revisionTags": {"stable": "1-31-0"},
    },
}


def test_the_walk_upgrades_to_a_version_that_istios_default_repository_publishes():
    # Istio 1.31 and later are published only at blob.istio.io (and as OCI on ghcr.io).
    run = run_program(stack_config("prod", STEPS["1-add-new-revision"]))

    assert NEW["version"] == ISTIO_CANARY_TARGET_VERSION
    assert {
        chart.inputs["repositoryOpts"]["repo"]
        for chart in run.of_type(CHART)
        if chart.inputs["chart"] in ("base", "istiod", "gateway")
    } == {ISTIO_CHART_REPOSITORY}


def istiods(run):
    return {
        chart.inputs["values"]["revision"]: chart for chart in run.of_type(CHART) if chart.inputs["chart"] == "istiod"
    }


def chart(run, name):
    (found,) = [chart for chart in run.of_type(CHART) if chart.inputs["chart"] == name]
    return found


def namespace_labels(run, namespace):
    return run.named(f"enrolled-{namespace}-namespace").inputs["metadata"]["labels"]


def step(name):
    return run_stack("prod", STEPS[name])


def test_the_real_stacks_run_one_revision_tagged_stable(any_stack):
    (istiod,) = istiods(any_stack).values()

    assert istiod.inputs["values"]["revision"] == "1-30-3"
    assert istiod.inputs["values"]["revisionTags"] == ["stable"]
    assert istiod.inputs["name"] == "istiod-1-30-3"
    assert chart(any_stack, "base").inputs["values"]["defaultRevision"] == "1-30-3"
    assert chart(any_stack, "gateway").inputs["values"]["revision"] == "stable"
    assert namespace_labels(any_stack, "sample")["istio.io/rev"] == "stable"
    assert "istio-injection" not in namespace_labels(any_stack, "sample")


def test_step_1_adds_the_new_istiod_beside_the_old_and_moves_nothing():
    run = step("1-add-new-revision")

    installed = istiods(run)
    assert {revision: istiod.inputs["version"] for revision, istiod in installed.items()} == {
        "1-30-3": "1.30.3",
        "1-31-0": "1.31.0",
    }
    assert installed["1-30-3"].inputs["values"]["revisionTags"] == ["stable"]
    assert installed["1-31-0"].inputs["values"]["revisionTags"] == []
    # The CRDs go first, to the newest version; everything still points at the old revision.
    assert chart(run, "base").inputs["version"] == "1.31.0"
    assert chart(run, "base").inputs["values"]["defaultRevision"] == "1-30-3"
    assert namespace_labels(run, "sample")["istio.io/rev"] == "stable"
    assert all(run.depends_on(istiod, chart(run, "base")) for istiod in installed.values())


def test_step_2_points_canary_at_the_new_revision_and_moves_one_namespace():
    run = step("2-canary-one-namespace")

    installed = istiods(run)
    assert installed["1-31-0"].inputs["values"]["revisionTags"] == ["canary"]
    assert installed["1-30-3"].inputs["values"]["revisionTags"] == ["stable"]
    assert namespace_labels(run, "sample")["istio.io/rev"] == "canary"
    assert chart(run, "gateway").inputs["values"]["revision"] == "stable"


def test_step_3_moves_stable_so_every_namespace_and_the_gateway_follow():
    run = step("3-move-stable")

    installed = istiods(run)
    assert installed["1-31-0"].inputs["values"]["revisionTags"] == ["canary", "stable"]
    assert installed["1-30-3"].inputs["values"]["revisionTags"] == []
    assert namespace_labels(run, "sample")["istio.io/rev"] == "stable"
    gateway = chart(run, "gateway")
    assert gateway.inputs["values"]["revision"] == "stable"
    assert run.depends_on(gateway, installed["1-31-0"])


def test_step_4_removes_the_old_revision_once_nothing_uses_it():
    run = step("4-remove-old-revision")

    assert set(istiods(run)) == {"1-31-0"}
    assert chart(run, "base").inputs["values"]["defaultRevision"] == "1-31-0"
    assert run.outputs["istioRevisions"] == {"1-31-0": {"version": "1.31.0", "tags": ["stable"]}}


def test_a_namespace_moved_ahead_keeps_the_old_revision_in_use():
    with pytest.raises(ConfigError, match=r"namespaceRevisions.sample = \"1-30-3\": names neither"):
        run_stack(
            "prod",
            {**STEPS["4-remove-old-revision"], "servicemesh:mesh.istio.namespaceRevisions": {"sample": "1-30-3"}},
        )


def test_without_revisions_namespaces_use_the_injection_label_alone():
    run = run_stack(
        "dev",
        {
            "servicemesh:mesh.istio.revisions": DELETE,
            "servicemesh:mesh.istio.revisionTags": DELETE,
            "servicemesh:mesh.istio.injectionRevision": DELETE,
        },
    )

    labels = namespace_labels(run, "sample")
    assert labels["istio-injection"] == "enabled"
    assert "istio.io/rev" not in labels
    (istiod,) = [chart for chart in run.of_type(CHART) if chart.inputs["chart"] == "istiod"]
    assert "revision" not in istiod.inputs["values"]
    assert "revision" not in chart(run, "gateway").inputs["values"]


def test_the_gateway_can_move_independently():
    run = run_stack("prod", {**STEPS["2-canary-one-namespace"], "servicemesh:mesh.istio.gateway.revision": "canary"})

    gateway = chart(run, "gateway")
    assert gateway.inputs["values"]["revision"] == "canary"
    assert run.depends_on(gateway, istiods(run)["1-31-0"])


UNSAFE_STATES = [
    (
        "tag-on-undeclared-revision",
        {**STEPS["4-remove-old-revision"], "servicemesh:mesh.istio.revisionTags": {"stable": "1-30-3"}},
        "servicemesh:mesh.istio.revisionTags.stable",
        "move the tag before removing the revision",
    ),
    (
        "removing-a-revision-a-namespace-uses",
        {**STEPS["4-remove-old-revision"], "servicemesh:mesh.istio.namespaceRevisions": {"sample": "1-30-3"}},
        "servicemesh:mesh.istio.namespaceRevisions.sample",
        "may not use a removed revision",
    ),
    (
        "removing-a-revision-the-gateway-uses",
        {**STEPS["4-remove-old-revision"], "servicemesh:mesh.istio.gateway.revision": "1-30-3"},
        "servicemesh:mesh.istio.gateway.revision",
        "may not use a removed revision",
    ),
    (
        "two-revisions-with-one-name",
        {**STEPS["1-add-new-revision"], "servicemesh:mesh.istio.revisions": [OLD, {**NEW, "name": "1-30-3"}]},
        "servicemesh:mesh.istio.revisions[1].name",
        "revision names must be unique",
    ),
    (
        "downgrade-without-override",
        {**STEPS["1-add-new-revision"], "servicemesh:mesh.istio.revisions": [NEW, OLD]},
        "servicemesh:mesh.istio.revisions[1].version",
        "a downgrade",
    ),
    (
        "revision-newer-than-the-crds",
        {**STEPS["1-add-new-revision"], "servicemesh:mesh.istio.version": "1.30.3"},
        "servicemesh:mesh.istio.revisions[1].version",
        "raise mesh.istio.version first",
    ),
    (
        "default-revision-undeclared",
        {**STEPS["1-add-new-revision"], "servicemesh:mesh.istio.defaultRevision": "1-29-0"},
        "servicemesh:mesh.istio.defaultRevision",
        "is not a declared revision",
    ),
    (
        "revisions-without-an-injection-revision",
        {**STEPS["1-add-new-revision"], "servicemesh:mesh.istio.injectionRevision": DELETE},
        "servicemesh:mesh.istio.injectionRevision",
        "is required when mesh.istio.revisions are declared",
    ),
    (
        "tags-without-revisions",
        {"servicemesh:mesh.istio.revisions": DELETE, "servicemesh:mesh.istio.injectionRevision": DELETE},
        "servicemesh:mesh.istio.revisionTags",
        "needs mesh.istio.revisions",
    ),
    (
        "canary-of-a-namespace-outside-the-mesh",
        {**STEPS["2-canary-one-namespace"], "servicemesh:mesh.istio.namespaceRevisions": {"elsewhere": "canary"}},
        "servicemesh:mesh.istio.namespaceRevisions.elsewhere",
        "is not an enrolled namespace",
    ),
]


@pytest.mark.parametrize(
    ("overrides", "key", "message"), [pytest.param(*case[1:], id=case[0]) for case in UNSAFE_STATES]
)
def test_unsafe_upgrade_states_are_refused_before_any_resource(overrides, key, message):
    run = run_program(stack_config("prod", overrides), stack="prod")

    assert isinstance(run.error, ConfigError), run.error
    assert run.resources == []
    assert any(problem.key == key and message in str(problem) for problem in run.error.problems), str(run.error)


def test_a_deliberate_rollback_is_allowed_with_the_override():
    run = run_stack(
        "prod",
        {
            **STEPS["1-add-new-revision"],
            "servicemesh:mesh.istio.revisions": [NEW, OLD],
            "servicemesh:mesh.istio.allowDowngrade": True,
        },
    )

    assert set(istiods(run)) == {"1-30-3", "1-31-0"}
