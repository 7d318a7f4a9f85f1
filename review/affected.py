"""Which stacks a change can affect, from the paths it touches, to preview only those.

A stack file or a snapshot names its stack; paths that never change what is deployed (tests,
tooling, docs, CI) affect none; anything else — the program, its requirements, the project
file, or a path not known here — affects every stack, so a new kind of file is never missed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_STACK_PATH = re.compile(r"(?:Pulumi\.(?P<stack>[^./]+)\.ya?ml|snapshots/(?P<snapshot>[^./]+)\.yaml)")
_NEVER_DEPLOYED = re.compile(
    r"(?:(?:tests|review|benchmarks|tools|scripts|docs|\.ci|\.github)/.*"
    r"|[^/]*\.md|Makefile|pyproject\.toml|\.gitignore|\.pre-commit-config\.yaml)"
)


def affected_stacks(changed_paths: Iterable[str], stacks: Iterable[str]) -> list[str]:
    """The stacks among `stacks` that a change of `changed_paths` (relative to the project) may affect."""
    known = sorted(stacks)
    affected: set[str] = set()
    for path in changed_paths:
        match = _STACK_PATH.fullmatch(path)
        if match:
            affected.add(match["stack"] or match["snapshot"])
        elif not _NEVER_DEPLOYED.fullmatch(path):
            return known
    return [stack for stack in known if stack in affected]
