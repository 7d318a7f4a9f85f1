"""Shared fixtures: the real stacks, each run once under mocks, and `helm` for the `charts` suite."""

from __future__ import annotations

import pytest
from reference_data import HELM_CHARTS, MISSING_REASON
from stack_harness import STACKS, StackRun, stack_names, stack_run

from review import images


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


@pytest.fixture(scope="module")
def helm() -> str:
    """The helm that renders the published charts (from PATH or the engine); skips without them or it."""
    if not HELM_CHARTS.is_dir():
        pytest.skip(MISSING_REASON)
    try:
        return images.find_helm()
    except images.ImagesError as error:
        pytest.skip(f"{error}: the charts cannot be rendered")
