"""The README's configuration reference is the one the code defines."""

from __future__ import annotations

import re

from stack_harness import PROJECT_ROOT

from review.comparison import footprint_table
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
