"""Stack files: finding `Pulumi.<stack>.yaml`, reading it, and turning it into engine config.

A stack is named on the command line either by name (`dev`, looked up in the project) or by the
path of its stack file (`path/to/Pulumi.dev.yaml`). A stack file is read the way the Pulumi CLI
reads it (`review.engine_yaml`), so the program sees the config `pulumi preview` would give it.
Every way that can go wrong raises `StackFileError` with a one-line message.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from review.engine_yaml import StackYamlError, engine_text, holds_secure, read_yaml_document, refuse_non_finite
from settings.problems import bounded
from settings.secrets import REDACTED

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PROJECT = "servicemesh"
STACKS = ("dev", "staging", "prod")
"""The environments the specification tests cover; `stack_names()` lists every stack file."""

DELETE = object()
"""An override value that removes the key from the stack config."""

_STACK_FILE_NAME = re.compile(r"Pulumi\.(?P<stack>[^.]+)\.ya?ml")


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
    names = (_STACK_FILE_NAME.fullmatch(path.name) for path in PROJECT_ROOT.glob("Pulumi.*.yaml"))
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
    match = _STACK_FILE_NAME.fullmatch(path.name)
    if match is None:
        raise StackFileError(f"{argument}: a stack file is named Pulumi.<stack>.yaml")
    if not path.is_file():
        raise StackFileError(f"{argument}: no such stack file")
    return StackFile(name=match["stack"], path=path)


def read_stack_file(path: Path) -> dict[str, Any]:
    """The `config:` mapping of a stack file as the Pulumi CLI reads it: keys under the project's
    namespace (`mesh` is `servicemesh:mesh`), values as go-yaml decodes them, and each value set
    with `pulumi config set --secret` as its `{"secure": <ciphertext>}` mapping."""
    try:
        return _config_of(read_yaml_document(path.read_bytes()))
    except StackYamlError as error:
        raise StackFileError(f"{path.name} {error}") from None
    except OSError as error:
        raise StackFileError(f"{path.name}: cannot be read: {error.strerror}") from None


def _config_of(document: Any) -> dict[str, Any]:
    if document is None:
        return {}
    config = document.get("config") if isinstance(document, dict) else None
    if not isinstance(document, dict) or not isinstance(config, dict | None):
        raise StackYamlError("is not a stack file: a stack file is a mapping whose `config` maps keys to values")
    namespaced: dict[str, Any] = {}
    written: dict[str, str] = {}
    for written_key, value in (config or {}).items():
        key = _namespaced(written_key)
        if key in namespaced:
            raise StackYamlError(
                f"has config keys {bounded(written[key])!r} and {bounded(written_key)!r}, which both name "
                f"{bounded(key)!r}; allowed: each key once"
            )
        refuse_non_finite(key, value)
        namespaced[key], written[key] = value, written_key
    return namespaced


def _namespaced(key: str) -> str:
    """A config key as the CLI reads it: `<namespace>:<name>`, a bare name in the project's namespace,
    or the old `<namespace>:config:<name>`."""
    namespace, *rest = key.split(":")
    if not rest:
        return f"{PROJECT}:{key}"
    if len(rest) == 1 or (len(rest) == 2 and rest[0] == "config"):
        return f"{namespace}:{rest[-1]}"
    raise StackYamlError(
        f"has config key {bounded(key)!r}, with {len(rest)} ':'; allowed: <namespace>:<name>, such as {PROJECT}:mesh"
    )


def with_overrides(config: Mapping[str, Any], overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A copy of stack config with `overrides` applied.

    Overrides map a dotted key (`servicemesh:mesh.istio.istiod.replicas`) to a new value, or to
    `DELETE` to remove the key.
    """
    config = copy.deepcopy(dict(config))
    for dotted_key, value in (overrides or {}).items():
        _set_path(config, dotted_key, value)
    return config


class EngineConfig(dict[str, str]):
    """Config as the engine hands it to the program: each key's text, and the keys that are secret."""

    def __init__(self, values: Mapping[str, str], secret_keys: frozenset[str] = frozenset()) -> None:
        super().__init__(values)
        self.secret_keys = secret_keys


def engine_config(config: Mapping[str, Any], overrides: Mapping[str, Any] | None = None) -> EngineConfig:
    """Stack config, with `overrides`, as the engine hands it to the program: scalars as their text,
    structured values as JSON. A value set with `pulumi config set --secret` cannot be decrypted
    here: the program gets `REDACTED` in its place, and its key is secret, as the engine marks it."""
    config = with_overrides(config, overrides)
    try:
        values = {key: engine_text(key, value, secret=REDACTED) for key, value in config.items()}
    except StackYamlError as error:
        raise StackFileError(f"the stack config {error}") from None
    return EngineConfig(values, frozenset(key for key, value in config.items() if holds_secure(value)))


def stack_config(stack: str, overrides: Mapping[str, Any] | None = None) -> EngineConfig:
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
