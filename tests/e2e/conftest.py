"""Fixtures of the end-to-end suite (marked `e2e`): the engine, the stand-in charts, one local
control plane per test module, and stacks of a project copy that are destroyed at the end.

Everything lives in pytest's temporary folders, and every process is stopped when the module's
cluster fixture exits, also when a test fails.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from engine.cluster import Cluster, local_cluster
from harness import Stack, built_engine, make_workspace
from reference_data import ISTIO
from standin_charts import write_standin_charts

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="session")
def engine_bin() -> Path:
    """The directory of the engine binaries that `make engine` builds."""
    binaries = built_engine()
    if binaries is None:
        pytest.skip("the Pulumi engine and Kubernetes binaries are not built: run `make engine`")
    return binaries


@pytest.fixture(scope="session")
def istio_crds() -> Path:
    """Istio's real CRDs: from the upstream reference data, or SERVICEMESH_ISTIO_CRDS."""
    path = Path(os.environ.get("SERVICEMESH_ISTIO_CRDS", ISTIO / "crd-all.gen.yaml"))
    if not path.is_file():
        pytest.skip(f"Istio's CRDs not found at {path}; set SERVICEMESH_ISTIO_CRDS to a crd-all.gen.yaml")
    return path


@pytest.fixture(scope="session")
def chart_directory(tmp_path_factory: pytest.TempPathFactory, istio_crds: Path) -> Path:
    return write_standin_charts(tmp_path_factory.mktemp("charts"), istio_crds=istio_crds)


@pytest.fixture(scope="module")
def cluster(engine_bin: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """A fresh local control plane per test module, so one module's leftovers never reach another."""
    with local_cluster(engine_bin, tmp_path_factory.mktemp("cluster")) as running:
        yield running


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory, cluster: Cluster, engine_bin: Path) -> dict[str, Any]:
    return make_workspace(tmp_path_factory.mktemp("workspace"), engine_bin=engine_bin, cluster=cluster)


@pytest.fixture(scope="module")
def new_stack(workspace: dict[str, Any], chart_directory: Path):
    """Create a stack of the project copy from a real stack file; destroyed when the module ends."""
    created: list[Stack] = []

    def create(name: str, base_stack: str, overrides: Mapping[str, Any] | None = None) -> Stack:
        stack = Stack(name, workspace["project"], workspace["env"], chart_directory, base_stack)
        stack.pulumi("stack", "init", name)
        stack.configure(overrides)
        created.append(stack)
        return stack

    yield create
    for stack in created:
        stack.pulumi("state", "unprotect", "--all", "--yes", check=False)
        stack.pulumi("destroy", "--yes", "--skip-preview", check=False)
