"""Shared fixtures: the real stacks, each run once under mocks."""

from __future__ import annotations

import pytest
from stack_harness import STACKS, StackRun, run_stack

_runs: dict[str, StackRun] = {}


def stack_run(stack: str) -> StackRun:
    """The program's run for the real `Pulumi.<stack>.yaml`, computed once per session."""
    if stack not in _runs:
        _runs[stack] = run_stack(stack)
    return _runs[stack]


@pytest.fixture(params=STACKS)
def any_stack(request: pytest.FixtureRequest) -> StackRun:
    """Each real stack in turn."""
    return stack_run(request.param)


@pytest.fixture
def dev() -> StackRun:
    return stack_run("dev")


@pytest.fixture
def staging() -> StackRun:
    return stack_run("staging")


@pytest.fixture
def prod() -> StackRun:
    return stack_run("prod")
