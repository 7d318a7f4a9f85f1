"""Shared fixtures: the real stacks, each run once under mocks."""

from __future__ import annotations

import pytest
from stack_harness import STACKS, StackRun, stack_names, stack_run


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


@pytest.fixture(params=stack_names())
def every_stack(request: pytest.FixtureRequest) -> StackRun:
    """Each stack file of the project in turn, whatever mesh it runs."""
    return stack_run(request.param)


@pytest.fixture
def dev_ambient() -> StackRun:
    return stack_run("dev-ambient")


@pytest.fixture
def prod_ambient() -> StackRun:
    return stack_run("prod-ambient")


@pytest.fixture
def dev_linkerd() -> StackRun:
    return stack_run("dev-linkerd")


@pytest.fixture
def prod_linkerd() -> StackRun:
    return stack_run("prod-linkerd")


@pytest.fixture
def dev_consul() -> StackRun:
    return stack_run("dev-consul")


@pytest.fixture
def prod_consul() -> StackRun:
    return stack_run("prod-consul")
