"""Committed renders: `snapshots/<stack>.yaml`, one per stack file, kept equal to the code.

A pull request that changes what a stack deploys changes its snapshot too, so the change is
reviewed as a readable file diff. `python -m review snapshot --update` rewrites them all.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from review.stacks import PROJECT_ROOT, StackFileError

SNAPSHOT_DIR = PROJECT_ROOT / "snapshots"
UPDATE_COMMAND = "make snapshots"
UPDATE_COMMAND_LONG = ".venv/bin/python -m review snapshot --update"


def snapshot_path(stack: str) -> Path:
    """Where the committed render of `stack` lives."""
    return SNAPSHOT_DIR / f"{stack}.yaml"


def snapshot_stacks() -> tuple[str, ...]:
    """The stacks that have a committed snapshot, sorted."""
    return tuple(sorted(path.stem for path in SNAPSHOT_DIR.glob("*.yaml")))


def read_snapshot(stack: str) -> dict[str, Any]:
    """The committed render of `stack` as data."""
    path = snapshot_path(stack)
    if not path.is_file():
        raise StackFileError(f"no snapshot of stack {stack!r} ({path.relative_to(PROJECT_ROOT)}): {how_to_update()}")
    return yaml.safe_load(path.read_text())


def stale_snapshots(renders: Mapping[str, str]) -> list[str]:
    """The stacks whose snapshot differs from `renders` (stack → render text), and the
    snapshots of stacks that no longer exist."""
    changed = [stack for stack, text in renders.items() if _read_text(snapshot_path(stack)) != text]
    orphaned = [stack for stack in snapshot_stacks() if stack not in renders]
    return sorted(changed + orphaned)


def write_snapshots(renders: Mapping[str, str]) -> list[str]:
    """Make the snapshot directory hold exactly `renders`; the stacks whose file changed."""
    stale = stale_snapshots(renders)
    SNAPSHOT_DIR.mkdir(exist_ok=True)
    for stack in stale:
        if stack in renders:
            snapshot_path(stack).write_text(renders[stack])
        else:
            snapshot_path(stack).unlink()
    return stale


def how_to_update() -> str:
    return f"update the snapshots with `{UPDATE_COMMAND}` ({UPDATE_COMMAND_LONG}) and commit them"


def _read_text(path: Path) -> str | None:
    return path.read_text() if path.is_file() else None
