"""Stack files: finding `Pulumi.<stack>.yaml`, reading it, and turning it into engine config.

A stack is named on the command line either by name (`dev`, looked up in the project) or by the
path of its stack file (`path/to/Pulumi.dev.yaml`). Every way that can go wrong raises
`StackFileError` with a one-line message.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PROJECT = "servicemesh"
STACKS = ("dev", "staging", "prod")
"""The environments the specification tests cover; `stack_names()` lists every stack file."""

DELETE = object()
"""An override value that removes the key from the stack config."""

_STACK_FILE_NAME = re.compile(r"^Pulumi\.(?P<stack>[^.]+)\.ya?ml$")


class StackFileError(Exception):
    """A stack that cannot be read: unknown, missing or malformed. The message is one line."""


@dataclass(frozen=True)
class StackFile:
    """A stack's name and the file that configures it."""

    name: str
    path: Path


def stack_file(stack: str) -> Path:
    """Where the project keeps the stack file of `stack`."""
    return PROJECT_ROOT / f"Pulumi.{stack}.yaml"


def stack_names() -> tuple[str, ...]:
    """Every stack that has a stack file in the project, sorted."""
    names = (_STACK_FILE_NAME.match(path.name) for path in PROJECT_ROOT.glob("Pulumi.*.yaml"))
    return tuple(sorted(match["stack"] for match in names if match))


def resolve_stack(argument: str) -> StackFile:
    """The stack a command-line argument names: a stack name, or the path of a stack file."""
    if not argument.endswith((".yaml", ".yml")) and "/" not in argument:
        if not stack_file(argument).is_file():
            raise StackFileError(
                f"unknown stack {argument!r}: there is no Pulumi.{argument}.yaml in the project "
                f"(stacks: {', '.join(stack_names())})"
            )
        return StackFile(name=argument, path=stack_file(argument))
    path = Path(argument)
    match = _STACK_FILE_NAME.match(path.name)
    if match is None:
        raise StackFileError(f"{argument}: a stack file is named Pulumi.<stack>.yaml")
    if not path.is_file():
        raise StackFileError(f"{argument}: no such stack file")
    return StackFile(name=match["stack"], path=path)


def read_stack_file(path: Path) -> dict[str, Any]:
    """The `config:` mapping of a stack file, exactly as written."""
    try:
        document = yaml.safe_load(path.read_text())
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise StackFileError(f"{path.name} is not valid YAML: {error.problem}{where}") from None
    except yaml.YAMLError as error:
        raise StackFileError(f"{path.name} is not valid YAML: {error}") from None
    if document is None:
        return {}
    config = document.get("config") if isinstance(document, dict) else None
    if not isinstance(document, dict) or not isinstance(config, dict | None):
        raise StackFileError(f"{path.name}: a stack file is a mapping whose `config` maps keys to values")
    return copy.deepcopy(config or {})


def with_overrides(config: Mapping[str, Any], overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A copy of stack config with `overrides` applied.

    Overrides map a dotted key (`servicemesh:mesh.istio.istiod.replicas`) to a new value, or to
    `DELETE` to remove the key.
    """
    config = copy.deepcopy(dict(config))
    for dotted_key, value in (overrides or {}).items():
        _set_path(config, dotted_key, value)
    return config


def engine_config(config: Mapping[str, Any], overrides: Mapping[str, Any] | None = None) -> dict[str, str]:
    """Stack config, with `overrides`, as the engine hands it to the program (structured values as JSON text)."""
    return {
        key: json.dumps(value) if isinstance(value, dict | list) else str(value)
        for key, value in with_overrides(config, overrides).items()
    }


def stack_config(stack: str, overrides: Mapping[str, Any] | None = None) -> dict[str, str]:
    """The config of the project's `Pulumi.<stack>.yaml` as the engine passes it, with `overrides`."""
    return engine_config(read_stack_file(stack_file(stack)), overrides)


def _set_path(config: dict[str, Any], dotted_key: str, value: Any) -> None:
    top, *path = dotted_key.split(".")
    if not path:
        if value is DELETE:
            config.pop(top, None)
        else:
            config[top] = value
        return
    node = config.setdefault(top, {})
    for part in path[:-1]:
        node = node.setdefault(part, {})
    if value is DELETE:
        node.pop(path[-1], None)
    else:
        node[path[-1]] = value
