"""Everything about a mesh lives in its own folder, `mesh/<provider>/`: the shared kits beside them
in `mesh/`, the program, the apps, the settings, the add-ons, the policy pack, the review, the
cluster transform and the scripts name no mesh, and
reach one only through `MeshAttachment` and the one registry that lists the meshes,
`mesh/implementations.py`."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from mesh.implementations import IMPLEMENTATIONS

ROOT = Path(__file__).resolve().parent.parent
REGISTRY = ROOT / "mesh" / "implementations.py"
# The program and its tooling; the tests and the benchmarks name meshes and stacks freely.
SHARED_FOLDERS = ("mesh", "apps", "settings", "observability", "policy", "review", "target_cluster", "scripts")
MESH_FREE = sorted(
    [ROOT / "__main__.py"]
    + [path for folder in SHARED_FOLDERS for path in (ROOT / folder).glob("*.py") if path != REGISTRY]
)


def code_words(tree: ast.Module) -> list[str]:
    """The string literals (but docstrings and other bare strings) and the names the code uses."""
    bare = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)}
    words = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in bare:
            words.append(node.value)
        elif isinstance(node, ast.Name):
            words.append(node.id)
        elif isinstance(node, ast.Attribute):
            words.append(node.attr)
        elif isinstance(node, ast.FunctionDef | ast.ClassDef):
            words.append(node.name)
        elif isinstance(node, ast.arg | ast.keyword) and node.arg:
            words.append(node.arg)
    return words


def imported_modules(tree: ast.Module) -> list[str]:
    modules = [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            modules += [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
    return modules


@pytest.mark.parametrize("path", MESH_FREE, ids=lambda path: str(path.relative_to(ROOT)))
def test_shared_code_names_no_mesh_and_imports_none(path):
    tree = ast.parse(path.read_text())
    meshes = set(IMPLEMENTATIONS)

    named = [word for word in code_words(tree) if any(mesh in word.lower() for mesh in meshes)]
    imported = [module for module in imported_modules(tree) if module.split(".")[:2] in [["mesh", m] for m in meshes]]

    assert named == [], "names a mesh; move what it knows into mesh/<provider>/ and reach it through the registry"
    assert imported == [], "imports a mesh's package; reach it through MeshAttachment or mesh/implementations.py"
