"""The end-to-end harness: the real Pulumi CLI on a copy of the project, against a local API server.

Used by the e2e tests' fixtures (`conftest.py`) and by `benchmarks/engine_timings.py`. An e2e
stack file is a real stack file (`Pulumi.dev.yaml`, `Pulumi.prod.yaml`) plus only what a
node-less test cluster needs: the local chart directory and `cluster.apiServerOnly`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from engine.cluster import Cluster
from standin_charts import RECEIVED_VALUES_SUFFIX

from review.stacks import PROJECT_ROOT, read_stack_file, stack_file, with_overrides

ENGINE_BUILD = PROJECT_ROOT / "tools" / "engine" / "build"
# What the program needs at run time; tests, snapshots and tooling stay behind.
PROJECT_CONTENT = (
    "Pulumi.yaml",
    "__main__.py",
    "apps",
    "mesh",
    "target_cluster",
    "observability",
    "policy",
    "settings",
)
ADDONS = ("prometheus", "grafana", "kiali", "jaeger")
PULUMI_TIMEOUT = 900


def built_engine() -> Path | None:
    """The directory of the binaries `make engine` builds, if they are all there."""
    if subprocess.run([str(ENGINE_BUILD), "--check"], capture_output=True).returncode != 0:
        return None
    return Path(subprocess.run([str(ENGINE_BUILD), "--print-bin-dir"], capture_output=True, text=True).stdout.strip())


def e2e_stack_config(base_stack: str, chart_directory: Path, overrides: Mapping[str, Any] | None = None) -> dict:
    """A real stack file's config, with only what the test cluster needs changed."""
    harness = {
        "servicemesh:cluster.apiServerOnly": True,
        "servicemesh:mesh.chartRepository": str(chart_directory),
        **{f"servicemesh:observability.{addon}.chartRepository": str(chart_directory) for addon in ADDONS},
    }
    return with_overrides(read_stack_file(stack_file(base_stack)), {**harness, **(overrides or {})})


@dataclass
class Stack:
    """One stack of the project copy, driven through the real `pulumi` CLI."""

    name: str
    project: Path
    env: dict[str, str]
    chart_directory: Path
    base_stack: str
    commands: list[str] = field(default_factory=list)

    def configure(self, overrides: Mapping[str, Any] | None = None) -> None:
        """Write `Pulumi.<name>.yaml`: the base stack file with `overrides`, as an operator edits it."""
        config = e2e_stack_config(self.base_stack, self.chart_directory, overrides)
        path = self.project / f"Pulumi.{self.name}.yaml"
        existing = yaml.safe_load(path.read_text()) if path.exists() else {}
        path.write_text(yaml.safe_dump({**(existing or {}), "config": config}, sort_keys=False))

    def pulumi(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        started = time.monotonic()
        selects_stack = args[:2] != ("stack", "init")
        result = subprocess.run(
            [self.env["PULUMI_BIN"], *args, *(["--stack", self.name] if selects_stack else []), "--non-interactive"],
            cwd=self.project,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=PULUMI_TIMEOUT,
        )
        self.commands.append(f"pulumi {' '.join(args)}: {time.monotonic() - started:.1f}s, exit {result.returncode}")
        if check and result.returncode != 0:
            raise AssertionError(f"pulumi {' '.join(args)} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
        return result

    def up(self, *args: str) -> subprocess.CompletedProcess:
        return self.pulumi("up", "--yes", "--skip-preview", *args)

    def preview_steps(self, *args: str) -> list[dict[str, Any]]:
        """The steps `pulumi preview --json` plans, other than leaving a resource as it is."""
        result = self.pulumi("preview", "--json", *args)
        return [step for step in json.loads(result.stdout).get("steps", []) if step["op"] != "same"]

    def outputs(self) -> dict[str, Any]:
        return json.loads(self.pulumi("stack", "output", "--json").stdout)


def make_workspace(root: Path, *, engine_bin: Path, cluster: Cluster) -> dict[str, Any]:
    """A copy of the project in `root` using this virtualenv, a file state backend and `cluster`."""
    project = root / "project"
    project.mkdir(parents=True)
    for name in PROJECT_CONTENT:
        source = PROJECT_ROOT / name
        if source.is_dir():
            shutil.copytree(source, project / name, ignore=shutil.ignore_patterns("__pycache__", "venv"))
        else:
            shutil.copy2(source, project / name)
    _use_this_virtualenv(project / "Pulumi.yaml")
    _use_this_virtualenv(project / "policy" / "PulumiPolicy.yaml")
    state = root / "state"
    state.mkdir()
    env = {
        **os.environ,
        "PATH": f"{engine_bin}{os.pathsep}{os.environ['PATH']}",
        "PULUMI_BIN": str(engine_bin / "pulumi"),
        "PULUMI_HOME": str(root / "pulumi-home"),
        "PULUMI_BACKEND_URL": f"file://{state}",
        "PULUMI_CONFIG_PASSPHRASE": "e2e-passphrase",
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "KUBECONFIG": str(cluster.kubeconfig),
    }
    return {"project": project, "env": env}


def _use_this_virtualenv(path: Path) -> None:
    """Point a Pulumi.yaml or PulumiPolicy.yaml at the virtualenv running the tests."""
    document = yaml.safe_load(path.read_text())
    document["runtime"]["options"]["virtualenv"] = sys.prefix
    path.write_text(yaml.safe_dump(document, sort_keys=False))


def received_values(cluster: Cluster, namespace: str, release: str) -> dict[str, Any]:
    """The values a stand-in chart received from Helm."""
    found = cluster.kubectl("get", "configmap", f"{release}{RECEIVED_VALUES_SUFFIX}", "-n", namespace, "-o", "json")
    return json.loads(json.loads(found.stdout)["data"]["values.json"])


def kubectl_json(cluster: Cluster, *args: str) -> dict[str, Any]:
    return json.loads(cluster.kubectl("get", *args, "-o", "json").stdout)
