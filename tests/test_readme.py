"""The README's generated sections are the ones the code defines."""

from __future__ import annotations

import re

from stack_harness import PROJECT_ROOT

from review.comparison import footprint_table
from settings.artifacts import ISTIO_CANARY_TARGET_VERSION, artifacts_table
from settings.reference import reference_table


def test_the_readme_config_table_matches_the_settings_models():
    readme = (PROJECT_ROOT / "README.md").read_text()
    match = re.search(r"<!-- config-reference:start[^>]*-->\n(.*?)<!-- config-reference:end -->", readme, re.DOTALL)

    assert match, "README.md lacks the config-reference markers"
    assert match.group(1) == reference_table(), "README config table is stale: run `make reference`"


def test_the_readme_mesh_comparison_shows_each_stacks_footprint_output():
    readme = (PROJECT_ROOT / "README.md").read_text()
    match = re.search(r"<!-- mesh-footprint:start[^>]*-->\n(.*?)<!-- mesh-footprint:end -->", readme, re.DOTALL)

    assert match, "README.md lacks the mesh-footprint markers"
    assert match.group(1) == footprint_table(), "README footprint table is stale: run `make reference`"


def test_the_readme_lists_the_pinned_artifacts_and_retired_locations_from_the_one_place_pins_live():
    readme = (PROJECT_ROOT / "README.md").read_text()
    match = re.search(r"<!-- artifacts:start[^>]*-->\n(.*?)<!-- artifacts:end -->", readme, re.DOTALL)

    assert match, "README.md lacks the artifacts markers"
    assert match.group(1) == artifacts_table(), "README artifacts table is stale: run `make reference`"


def test_the_readme_canary_walk_upgrades_to_the_target_the_default_repository_publishes():
    readme = (PROJECT_ROOT / "README.md").read_text()
    walk = readme.split("## Upgrading Istio", 1)[1].split("\n## ", 1)[0]

    assert f"+    version: {ISTIO_CANARY_TARGET_VERSION}" in walk
    assert f"From 1.30.3 to {ISTIO_CANARY_TARGET_VERSION} (" in walk
