"""Rewrites the README's generated sections in place: the configuration reference (from the
settings models), the mesh footprint comparison (from each stack's `footprint` output) and the
pinned artifacts (from `settings.artifacts`)."""

from __future__ import annotations

import re
from collections.abc import Callable

from review.comparison import footprint_table
from review.stacks import PROJECT_ROOT
from settings.artifacts import artifacts_table
from settings.reference import reference_table

README = PROJECT_ROOT / "README.md"
SECTIONS: dict[str, Callable[[], str]] = {
    "config-reference": reference_table,
    "mesh-footprint": footprint_table,
    "artifacts": artifacts_table,
}


def update_readme() -> None:
    text = README.read_text()
    for marker, generate in SECTIONS.items():
        pattern = re.compile(rf"(<!-- {marker}:start[^>]*-->\n)(.*?)(<!-- {marker}:end -->)", re.DOTALL)
        if not pattern.search(text):
            raise SystemExit(f"README.md lacks the {marker} markers")
        text = pattern.sub(lambda match, generate=generate: match.group(1) + generate() + match.group(3), text)
    README.write_text(text)


if __name__ == "__main__":
    update_readme()
