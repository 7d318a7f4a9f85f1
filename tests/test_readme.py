"""The README's generated sections are the ones the code defines."""

from __future__ import annotations

import re

import pytest
from stack_harness import PROJECT_ROOT

from review.readme import SECTIONS
from settings.artifacts import ISTIO_CANARY_TARGET_VERSION


@pytest.mark.parametrize("marker", sorted(SECTIONS))
def test_each_generated_readme_section_is_what_the_code_generates(marker):
    """The configuration reference (settings models), the mesh footprint comparison (each stack's
    `footprint` output) and the pinned artifacts (`settings.artifacts`)."""
    readme = (PROJECT_ROOT / "README.md").read_text()
    match = re.search(rf"<!-- {marker}:start[^>]*-->\n(.*?)<!-- {marker}:end -->", readme, re.DOTALL)

    assert match, f"README.md lacks the {marker} markers"
    assert match.group(1) == SECTIONS[marker](), f"README {marker} section is stale: run `make reference`"


def test_the_readme_canary_walk_upgrades_to_the_target_the_default_repository_publishes():
    readme = (PROJECT_ROOT / "README.md").read_text()
    walk = readme.split("## Upgrading Istio", 1)[1].split("\n## ", 1)[0]

    assert f"+      version: {ISTIO_CANARY_TARGET_VERSION}" in walk
    assert f"From 1.30.3 to {ISTIO_CANARY_TARGET_VERSION} (" in walk
