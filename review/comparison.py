"""The README's comparison of the meshes as this program deploys them: per stack file, the
implementation and the `footprint` output the program computes, so the table cannot drift."""

from __future__ import annotations

from review.program import run_stack
from review.stacks import stack_names

_PARTS = ("controlPlane", "nodeAgents", "gateway", "addons", "apps", "total")


def _cell(requests: dict[str, str]) -> str:
    return f"{requests['cpu']} CPU / {requests['memoryMiB']} MiB"


def footprint_table() -> str:
    """A Markdown table: one row per stack file, its mesh, and its requests per part and in total."""
    header = "| stack | mesh | " + " | ".join(_PARTS) + " |\n"
    rule = "|---|---|" + "---|" * len(_PARTS) + "\n"
    rows = []
    for stack in stack_names():
        outputs = run_stack(stack).outputs
        footprint = outputs["footprint"]
        rows.append(f"| `{stack}` | {outputs['mesh']} | " + " | ".join(_cell(footprint[p]) for p in _PARTS) + " |\n")
    return header + rule + "".join(rows)


if __name__ == "__main__":
    print(footprint_table(), end="")
