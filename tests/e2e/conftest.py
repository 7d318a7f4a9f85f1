"""Fixtures of the end-to-end suite (marked `e2e`): the engine, the published charts, one local
control plane per test module, and stacks of a project copy.

Everything lives in pytest's temporary folders, and every process is stopped when the cluster
fixture exits, also when a test fails. Stacks are not destroyed at the end: their cluster goes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from engine.cluster import Cluster
from harness import PublishedCharts, Stack, built_engine, e2e_cluster, init_stack, make_workspace
from reference_data import GATEWAY_API_CRDS, HELM_CHARTS, MISSING_REASON

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="session")
def engine_bin() -> Path:
    """The directory of the engine binaries that `make engine` builds."""
    binaries = built_engine()
    if binaries is None:
        pytest.skip("the Pulumi engine and Kubernetes binaries are not built: run `make engine`")
    return binaries


@pytest.fixture(scope="session")
def published_charts() -> PublishedCharts:
    """The charts as published upstream, from the reference data (SERVICEMESH_REFERENCE_DIR)."""
    charts = PublishedCharts(directory=HELM_CHARTS, gateway_api_crds=GATEWAY_API_CRDS)
    if not charts.directory.is_dir() or not charts.gateway_api_crds.is_file():
        pytest.skip(f"the published charts are not available: {MISSING_REASON}")
    return charts


@pytest.fixture(scope="module")
def cluster(engine_bin: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """A fresh local control plane per test module, so one module's leftovers never reach another."""
    with e2e_cluster(engine_bin, tmp_path_factory.mktemp("cluster")) as running:
        yield running


@pytest.fixture(scope="module")
def new_stack(
    tmp_path_factory: pytest.TempPathFactory, cluster: Cluster, engine_bin: Path, published_charts: PublishedCharts
):
    """Create a stack on the module's cluster from a real stack file, with overrides."""
    workspace = make_workspace(tmp_path_factory.mktemp("workspace"), engine_bin=engine_bin, cluster=cluster)

    def create(name: str, base_stack: str, overrides: Mapping[str, Any] | None = None) -> Stack:
        return init_stack(workspace, name, base_stack, published_charts, overrides)

    return create
