"""Everything about a mesh lives in its own folder, `mesh/<provider>/`: the shared kits beside them
in `mesh/`, the apps, the settings, the add-ons, the policy pack and the review name no mesh, and
reach one only through `MeshAttachment` and the one registry that lists the meshes,
`mesh/implementations.py`."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from mesh.implementations import IMPLEMENTATIONS

ROOT = Path(__file__).resolve().parent.parent
REGISTRY = ROOT / "mesh" / "implementations.py"
SHARED_FOLDERS = ("mesh", "apps", "settings", "observability", "policy", "review")
# The one place pins live (issue 14): every chart and image version, the artifacts table of docs/upgrades.md and
# the retired locations that config and the policy pack refuse, read by the meshes' settings and by
# the real-engine tests. Split per mesh, the pins would live in as many places as there are meshes.
PINS = ROOT / "settings" / "artifacts.py"
MESH_FREE = sorted(
    path for folder in SHARED_FOLDERS for path in (ROOT / folder).glob("*.py") if path not in (REGISTRY, PINS)
)
# What a shared file may still name of a mesh, and why; anything else it names fails.
KNOWN_MENTIONS = {
    # The add-ons' default namespace predates the other meshes; another default would move the add-ons
    # of every stack file that leaves `observability.namespace` out.
    ROOT / "settings" / "models.py": {"istio-system"},
}


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

    known = KNOWN_MENTIONS.get(path, set())
    named = [word for word in code_words(tree) if any(mesh in word.lower() for mesh in meshes) and word not in known]
    imported = [module for module in imported_modules(tree) if module.split(".")[:2] in [["mesh", m] for m in meshes]]

    assert named == [], "names a mesh; move what it knows into mesh/<provider>/ and reach it through the registry"
    assert imported == [], "imports a mesh's package; reach it through MeshAttachment or mesh/implementations.py"


@pytest.mark.parametrize("path", KNOWN_MENTIONS, ids=lambda path: str(path.relative_to(ROOT)))
def test_a_known_mention_of_a_mesh_is_still_there(path):
    """An exception that is no longer needed goes, so that the mention cannot come back unnoticed."""
    assert KNOWN_MENTIONS[path] <= set(code_words(ast.parse(path.read_text())))
