"""The README's comparison of the meshes as this program deploys them: per stack file, the
implementation and the requests of what the stack registers (`review.footprint`), so the table
cannot drift."""

from __future__ import annotations

from mesh.footprint import PARTS
from review.footprint import stack_footprint
from review.program import run_stack
from review.stacks import stack_names
from settings.quantities import Requests


def _cell(requests: Requests) -> str:
    described = requests.describe()
    return f"{described['cpu']} CPU / {described['memoryMiB']} MiB"


def footprint_table() -> str:
    """A Markdown table: one row per stack file, its mesh, and its requests per part and in total."""
    header = "| stack | mesh | " + " | ".join([*PARTS, "total"]) + " |\n"
    rule = "|---|---|" + "---|" * (len(PARTS) + 1) + "\n"
    rows = []
    for stack in stack_names():
        run = run_stack(stack)
        footprint = stack_footprint(run)
        if footprint.unknown:
            unknown = "; ".join(f"{component.component}: {component.unknown}" for component in footprint.unknown)
            raise ValueError(f"stack {stack}: unknown footprint ({unknown})")
        cells = [*footprint.by_part().values(), footprint.total]
        rows.append(f"| `{stack}` | {run.outputs['mesh']} | " + " | ".join(map(_cell, cells)) + " |\n")
    return header + rule + "".join(rows)


if __name__ == "__main__":
    print(footprint_table(), end="")
