"""The README and docs/: their generated sections are the ones the code defines, every page of
docs/ is reachable from the README, and the upgrade walk matches the pins."""

from __future__ import annotations

import re

import pytest
from stack_harness import PROJECT_ROOT

from mesh.istio.artifacts import ISTIO_CANARY_TARGET_VERSION
from review.readme import SECTIONS, section_pattern

DOCS = PROJECT_ROOT / "docs"


@pytest.mark.parametrize("marker", sorted(SECTIONS))
def test_each_generated_section_is_what_the_code_generates(marker):
    """The mesh footprint comparison (what each stack registers), the configuration reference
    (settings models), the stack outputs (what each stack exports) and the pinned artifacts
    (each mesh's `artifacts.py` and the add-ons' in `settings.artifacts`)."""
    section = SECTIONS[marker]
    match = section_pattern(marker).search(section.path.read_text())

    assert match, f"{section.path.name} lacks the {marker} markers"
    stale = f"{section.path.name}'s {marker} section is stale: run `make reference`"
    assert match.group(2) == section.generate(), stale


def test_the_readme_links_every_page_of_docs_and_every_link_resolves():
    readme = (PROJECT_ROOT / "README.md").read_text()
    linked = set(re.findall(r"\]\((docs/[^)#]+)", readme))

    assert {f"docs/{page.name}" for page in DOCS.glob("*.md")} <= linked
    assert [link for link in linked if not (PROJECT_ROOT / link).is_file()] == []


@pytest.mark.parametrize("page", sorted(DOCS.glob("*.md")), ids=lambda page: page.name)
def test_every_relative_link_of_a_docs_page_resolves(page):
    links = re.findall(r"\]\(((?!https?:|#)[^)#]+)", page.read_text())

    assert [link for link in links if not (page.parent / link).exists()] == []


def test_the_canary_walk_upgrades_to_the_target_the_default_repository_publishes():
    upgrades = (DOCS / "upgrades.md").read_text()
    walk = upgrades.split("## Upgrading Istio", 1)[1].split("\n## ", 1)[0]

    assert f"+      version: {ISTIO_CANARY_TARGET_VERSION}" in walk
    assert f"From 1.30.3 to {ISTIO_CANARY_TARGET_VERSION} (" in walk


def test_the_outputs_page_lists_exactly_the_outputs_the_stacks_export():
    """An output the program adds without a description, or a described output no stack exports,
    stops the generator; the page lists every output once."""
    listed = re.findall(r"^\| `(\w+)` \|", (DOCS / "outputs.md").read_text(), re.MULTILINE)

    assert len(listed) == len(set(listed))
    assert {"environment", "mesh", "apps", "grafanaAdmin", "istioVersion", "linkerdViz", "consulUi"} <= set(listed)
