"""Runs the real program (`__main__.py`) under Pulumi mocks for a real stack file.

`run_stack("dev")` loads `Pulumi.dev.yaml`, hands its config to the program the way the engine
does (structured values as JSON text), runs the program with a mock engine and returns every
resource it registered: type, name, inputs, parent, dependencies and options.
"""

from __future__ import annotations

import contextvars
import copy
import json
import runpy
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml

# _resolve_callbacks maps the transform tokens of a registration back to the program's functions.
from pulumi.runtime.mocks import MockMonitor, MockResourceArgs, Mocks, _resolve_callbacks
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PROJECT = "servicemesh"
STACKS = ("dev", "staging", "prod")
_DELETE = object()


@dataclass(frozen=True)
class RegisteredResource:
    """One resource as the program registered it with the engine."""

    type: str
    name: str
    urn: str
    inputs: dict[str, Any]
    parent: str
    dependencies: tuple[str, ...]
    protect: bool
    retain_on_delete: bool
    ignore_changes: tuple[str, ...]
    transforms: tuple[Any, ...]


@dataclass
class StackRun:
    """What the program registered and exported for one stack, or the error it stopped with."""

    resources: list[RegisteredResource]
    outputs: dict[str, Any] = field(default_factory=dict)
    error: BaseException | None = None

    def named(self, name: str) -> RegisteredResource:
        matches = [resource for resource in self.resources if resource.name == name]
        assert len(matches) == 1, f"expected one resource named {name!r}, found {len(matches)}"
        return matches[0]

    def of_type(self, type_: str) -> list[RegisteredResource]:
        return [resource for resource in self.resources if resource.type == type_]

    def by_urn(self, urn: str) -> RegisteredResource:
        return next(resource for resource in self.resources if resource.urn == urn)

    def depends_on(self, dependent: RegisteredResource, dependency: RegisteredResource) -> bool:
        """Whether `dependent` waits for `dependency`, directly or through other resources."""
        pending, seen = list(dependent.dependencies), set()
        while pending:
            urn = pending.pop()
            if urn == dependency.urn:
                return True
            if urn not in seen:
                seen.add(urn)
                pending.extend(self.by_urn(urn).dependencies)
        return False


class _EchoMocks(Mocks):
    """A mock engine that creates every resource with its inputs as its outputs."""

    def new_resource(self, args: MockResourceArgs) -> tuple[str, dict]:
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args):
        return {}, None


class _RecordingMonitor(MockMonitor):
    """The mock monitor, also keeping the options the engine would see."""

    def __init__(self, mocks: Mocks) -> None:
        super().__init__(mocks)
        self.registered: list[RegisteredResource] = []

    def RegisterResource(self, request):  # noqa: N802 - gRPC servicer method name
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            self.registered.append(
                RegisteredResource(
                    type=request.type,
                    name=request.name,
                    urn=response.urn,
                    inputs=self.resources[response.urn].state,
                    parent=request.parent,
                    dependencies=tuple(request.dependencies),
                    protect=request.protect,
                    retain_on_delete=request.retainOnDelete,
                    ignore_changes=tuple(request.ignoreChanges),
                    transforms=tuple(_resolve_callbacks(request.transforms)),
                )
            )
        return response


def stack_config(stack: str, overrides: Mapping[str, Any] | None = None) -> dict[str, str]:
    """The config of `Pulumi.<stack>.yaml` as the engine passes it, with `overrides` applied.

    Overrides map a dotted key (`servicemesh:mesh.istiod.replicas`) to a new value, or to
    `DELETE` to remove the key.
    """
    document = yaml.safe_load((PROJECT_ROOT / f"Pulumi.{stack}.yaml").read_text())
    config = copy.deepcopy(document.get("config") or {})
    for dotted_key, value in (overrides or {}).items():
        _set_path(config, dotted_key, value)
    return {key: json.dumps(value) if isinstance(value, dict | list) else str(value) for key, value in config.items()}


DELETE = _DELETE


def _set_path(config: dict[str, Any], dotted_key: str, value: Any) -> None:
    top, *path = dotted_key.split(".")
    if not path:
        if value is _DELETE:
            config.pop(top, None)
        else:
            config[top] = value
        return
    node = config.setdefault(top, {})
    for part in path[:-1]:
        node = node.setdefault(part, {})
    if value is _DELETE:
        node.pop(path[-1], None)
    else:
        node[path[-1]] = value


def run_program(config: Mapping[str, str], *, stack: str = "test") -> StackRun:
    """Run `__main__.py` with `config` under mocks, in a fresh Pulumi runtime context."""
    return contextvars.Context().run(_run_program, dict(config), stack)


def _run_program(config: dict[str, str], stack: str) -> StackRun:
    mocks = _EchoMocks()
    monitor = _RecordingMonitor(mocks)
    pulumi.runtime.set_all_config(config)
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=True, monitor=monitor)
    root = pulumi.runtime.get_root_resource()
    try:
        _sync_await(run_pulumi_func(lambda: runpy.run_path(str(PROJECT_ROOT / "__main__.py"), run_name="__main__")))
    except Exception as error:  # handed to the test to assert on
        return StackRun(resources=list(monitor.registered), error=error)
    exports = {key: _sync_await(pulumi.Output.from_input(value).future()) for key, value in root.outputs.items()}
    return StackRun(resources=monitor.registered, outputs=exports)


def run_stack(stack: str, overrides: Mapping[str, Any] | None = None) -> StackRun:
    """Run the program for the real `Pulumi.<stack>.yaml`, optionally with `overrides`.

    Raises the program's error, if any; use `run_program` to inspect a failed run.
    """
    run = run_program(stack_config(stack, overrides), stack=stack)
    if run.error is not None:
        raise run.error
    return run
