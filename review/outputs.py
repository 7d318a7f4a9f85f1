"""docs/outputs.md's table of stack outputs: the outputs every stack file exports when the program
runs under mocks, which meshes export each, and what it says. The program's own outputs are
described here, each mesh's in its registry entry (`MeshImplementation.outputs`); an output
without a description, or a description of an output no stack exports, stops the generator."""

from __future__ import annotations

from mesh.implementations import REGISTRY
from review.program import run_stack
from review.stacks import stack_names

PROGRAM_OUTPUTS = {
    "environment": "the stack's environment",
    "mesh": "the implementation this stack installs",
    "enrolledNamespaces": "namespaces enrolled in the mesh (`mesh.injectedNamespaces` and the apps' namespaces)",
    "apps": "per app: `inMesh` URL, `gateway` URL (or null) and a `portForward` command",
    "addons": "per add-on: its `kubectl port-forward` command and local URL",
    "grafanaAdmin": "Grafana's admin `user` and `password`",
}
"""What each output `__main__.py` exports itself says."""


def output_descriptions() -> dict[str, str]:
    """What each output says: the program's own outputs, then each mesh's."""
    return PROGRAM_OUTPUTS | {name: text for entry in REGISTRY for name, text in entry.outputs.items()}


def outputs_table() -> str:
    """A Markdown table: every output any stack exports, the meshes that export it, whether it is
    secret, and what it says."""
    descriptions = output_descriptions()
    meshes: dict[str, list[str]] = {}
    secret: set[str] = set()
    for stack in stack_names():
        run = run_stack(stack)
        for name in run.outputs:
            if run.outputs["mesh"] not in meshes.setdefault(name, []):
                meshes[name].append(run.outputs["mesh"])
        secret |= run.secret_outputs
    every_mesh = sorted({mesh for names in meshes.values() for mesh in names})
    by_mesh = {name: sorted(names) for name, names in meshes.items()}
    undescribed = sorted(set(meshes) - set(descriptions))
    unexported = sorted(set(descriptions) - set(meshes))
    if undescribed or unexported:
        raise ValueError(f"stack outputs without a description: {undescribed}; described, never exported: {unexported}")
    lines = ["| output | exported by | meaning |", "|---|---|---|"]
    for name in descriptions:
        by = "every stack" if by_mesh[name] == every_mesh else ", ".join(f"`{mesh}`" for mesh in by_mesh[name])
        meaning = descriptions[name]
        if name in secret:
            meaning += f" (secret: `pulumi stack output {name} --show-secrets`)"
        if name == "mesh":
            meaning += ": " + ", ".join(f"`{mesh}`" for mesh in every_mesh)
        lines.append(f"| `{name}` | {by} | {meaning} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(outputs_table(), end="")
