"""Given the paths a pull request changes, previews run for the stacks it may affect."""

from __future__ import annotations

import pytest

from review.affected import affected_stacks

STACKS = ("dev", "prod", "staging")


@pytest.mark.parametrize(
    ("paths", "stacks"),
    [
        (["Pulumi.prod.yaml"], ["prod"]),
        (["snapshots/staging.yaml", "Pulumi.dev.yaml"], ["dev", "staging"]),
        (["README.md", "tests/test_mesh_stacks.py", "review/cli.py", ".github/workflows/deploy.yml"], []),
        (["docs/configuration.md", ".pre-commit-config.yaml"], []),
        (["mesh/values.py"], ["dev", "prod", "staging"]),
        (["requirements.txt"], ["dev", "prod", "staging"]),
        (["Pulumi.yaml"], ["dev", "prod", "staging"]),
        (["observability/charts.py"], ["dev", "prod", "staging"]),
        (["Pulumi.qa.yaml"], []),
    ],
    ids=[
        "stack-file",
        "snapshots",
        "never-deployed",
        "docs-and-hooks",
        "program",
        "requirements",
        "project",
        "unknown-path",
        "no-such-stack",
    ],
)
def test_a_change_affects_the_stacks_it_can_change(paths, stacks):
    assert affected_stacks(paths, STACKS) == stacks
