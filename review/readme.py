"""Rewrites the generated sections of the README and of docs/ in place: the mesh footprint
comparison in README.md (from what each stack registers), the configuration reference in
docs/configuration.md (from the settings models), the stack outputs in docs/outputs.md (from what
each stack exports) and the pinned artifacts in docs/upgrades.md (`review.artifacts`).
`make reference` runs it; tests/test_readme.py fails while a section differs from its generator."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from review.artifacts import artifacts_table
from review.comparison import footprint_table
from review.outputs import outputs_table
from review.stacks import PROJECT_ROOT
from settings.reference import reference_table


@dataclass(frozen=True)
class Section:
    """A generated section: the file that holds it between its markers, and its generator."""

    path: Path
    generate: Callable[[], str]


SECTIONS: dict[str, Section] = {
    "mesh-footprint": Section(PROJECT_ROOT / "README.md", footprint_table),
    "config-reference": Section(PROJECT_ROOT / "docs" / "configuration.md", reference_table),
    "outputs": Section(PROJECT_ROOT / "docs" / "outputs.md", outputs_table),
    "artifacts": Section(PROJECT_ROOT / "docs" / "upgrades.md", artifacts_table),
}
"""Each section by its marker: `<!-- marker:start … -->` and `<!-- marker:end -->`."""


def section_pattern(marker: str) -> re.Pattern[str]:
    """The marked section: group 1 its start marker line, group 2 its content, group 3 its end marker."""
    return re.compile(rf"(<!-- {marker}:start[^>]*-->\n)(.*?)(<!-- {marker}:end -->)", re.DOTALL)


def update_docs() -> None:
    for marker, section in SECTIONS.items():
        text = section.path.read_text()
        match = section_pattern(marker).search(text)
        if not match:
            raise SystemExit(f"{section.path.relative_to(PROJECT_ROOT)} lacks the {marker} markers")
        section.path.write_text(text[: match.start(2)] + section.generate() + text[match.end(2) :])


if __name__ == "__main__":
    update_docs()
