"""`make up` as a newcomer runs it, on a machine with no `pulumi`, no kind and no kube context.

A copy of the project (as a clone has it: no virtualenv of its own, no `.local/`, no state), with
HOME in a temporary folder, KUBECONFIG naming a file that does not exist, no `pulumi` or `kind` on
PATH (the engine's bin dir is found only through `tools/engine/build`), and no terminal. Exactly
three commands: `make up` brings the dev stack up on the embedded control plane with the project's
own engine; a second `make up` changes nothing; `make down` leaves no process and no cluster data.
The charts come from the published charts on disk (`CHARTS`), since this machine has no network.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness import PublishedCharts

from review.stacks import PROJECT_ROOT
from scripts import local_cluster
from scripts.up import EMBEDDED_NOTE

pytestmark = pytest.mark.e2e

MAKE_TIMEOUT = 1800
# Left behind, as a clone has none of them (`policy/venv` is the link `make` makes).
NOT_IN_A_CLONE = (".git", ".venv", ".local", ".pulumi-state", "__pycache__", ".pytest_cache", ".ruff_cache", "venv")
# What a newcomer's shell does not set; and make's own variables, should the suite run under make.
NEWCOMER_UNSETS = ("KUBECONFIG", "STACK", "YES", "CHARTS", "GATEWAY_API_CRDS", "KEEP_PROTECTED", "MAKEFLAGS", "MFLAGS")
NOT_ON_PATH = ("pulumi", "kind")
NEEDED_ON_PATH = ("make", "bash", "openssl", "ps")
SUMMARY_COUNT = re.compile(r"^\s*[-+~]*\s*(\d+) (\w+)")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, engine_bin: Path) -> Iterator[Path]:
    """A fresh copy of the project using this virtualenv, as installed (so `make` does not install
    it again); its embedded cluster is stopped at the end whatever happened (`make down` is what a
    passing run stops it with)."""
    copy = tmp_path_factory.mktemp("newcomer") / "servicemesh"
    shutil.copytree(PROJECT_ROOT, copy, ignore=shutil.ignore_patterns(*NOT_IN_A_CLONE), symlinks=True)
    (copy / ".venv").symlink_to(PROJECT_ROOT / ".venv")
    installed = (copy / ".venv" / ".installed").stat().st_mtime_ns
    os.utime(copy / "requirements.txt", ns=(installed, installed))
    yield copy
    local_cluster.stop(copy / ".local" / "cluster")


@pytest.fixture(scope="module")
def newcomer(tmp_path_factory: pytest.TempPathFactory, engine_bin: Path, published_charts: PublishedCharts):
    """The environment of a fresh machine's shell, with the engine built in its usual cache."""
    home = tmp_path_factory.mktemp("home")
    path = [
        folder
        for folder in os.environ["PATH"].split(os.pathsep)
        if folder and not any(os.access(Path(folder) / tool, os.X_OK) for tool in NOT_ON_PATH)
    ]
    missing = [tool for tool in NEEDED_ON_PATH if shutil.which(tool, path=os.pathsep.join(path)) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} only in folders that also hold pulumi or kind")
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in NEWCOMER_UNSETS and not key.startswith(("PULUMI_", "SERVICEMESH_"))
    }
    return {
        **env,
        "HOME": str(home),
        "PATH": os.pathsep.join(path),
        "KUBECONFIG": str(home / "no-such-kubeconfig"),
        "SERVICEMESH_ENGINE_CACHE": str(engine_bin.parent.parent),
        "CHARTS": str(published_charts.directory),
    }


def make(project: Path, env: dict[str, str], target: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", target],
        cwd=project,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=MAKE_TIMEOUT,
    )


def update_summary(output: str) -> dict[str, int]:
    """The resource counts of the last `Resources:` block pulumi printed (the update's, after its preview's)."""
    block = output.rsplit("\nResources:\n", 1)[1].split("\n\n", 1)[0]
    return {match[2]: int(match[1]) for line in block.splitlines() if (match := SUMMARY_COUNT.match(line))}


def cluster_state(project: Path) -> dict:
    return json.loads((project / ".local" / "cluster" / local_cluster.STATE_FILE).read_text())


@pytest.fixture(scope="module")
def first_up(project: Path, newcomer: dict[str, str]) -> subprocess.CompletedProcess:
    return make(project, newcomer, "up")


@pytest.fixture(scope="module")
def second_up(first_up: subprocess.CompletedProcess, project: Path, newcomer: dict[str, str]):
    assert first_up.returncode == 0, first_up.stdout[-6000:] + first_up.stderr[-2000:]
    return make(project, newcomer, "up")


@pytest.fixture(scope="module")
def down(second_up: subprocess.CompletedProcess, project: Path, newcomer: dict[str, str]):
    pids = cluster_state(project)["processes"]
    return make(project, newcomer, "down"), pids


def test_make_up_brings_the_dev_stack_up_on_the_embedded_control_plane_with_the_projects_engine(first_up, project):
    output = first_up.stdout + first_up.stderr

    assert first_up.returncode == 0, output[-6000:]
    assert "pulumi: not on PATH, so the project's engine (tools/engine" in output
    assert (
        "target: the embedded local control plane (.local/cluster) (no current kube context; kind is not on PATH)"
        in output
    )
    assert EMBEDDED_NOTE in output
    assert "--policy-pack policy --suppress-outputs --yes --stack dev" in output
    assert update_summary(output).get("created", 0) > 50
    assert re.search(r"^  mesh +istio-sidecar ", output, re.MULTILINE)
    assert re.search(r"^  apps\.httpbin +kubectl -n sample port-forward svc/httpbin", output, re.MULTILINE)
    assert set(cluster_state(project)["processes"]) == set(local_cluster.CONTROL_PLANE)
    assert "servicemesh:cluster" not in (project / "Pulumi.dev.yaml").read_text()


def test_a_second_make_up_changes_nothing(second_up):
    output = second_up.stdout + second_up.stderr

    assert second_up.returncode == 0, output[-6000:]
    assert "embedded control plane already running" in output
    assert set(update_summary(output)) == {"unchanged"}, output[-3000:]


def test_make_down_leaves_no_process_no_cluster_data_and_no_stack(down, project, newcomer, engine_bin):
    result, pids = down
    output = result.stdout + result.stderr
    stacks = subprocess.run(
        [str(engine_bin / "pulumi"), "stack", "ls", "--json", "--non-interactive"],
        cwd=project,
        env={**newcomer, "PULUMI_BACKEND_URL": f"file://{project / '.pulumi-state'}"},
        capture_output=True,
        text=True,
        check=True,
    )

    assert result.returncode == 0, output[-6000:]
    assert [name for name, pid in pids.items() if local_cluster.command_line(pid) is not None] == []
    assert not (project / ".local" / "cluster").exists()
    assert json.loads(stacks.stdout) == []
    assert list((project / ".local" / "stacks").glob("*dev*")) == []
