"""The end-to-end harness: the real Pulumi CLI on a copy of the project, against a local API server.

Used by the e2e tests' fixtures (`conftest.py`) and by `benchmarks/engine_timings.py`. An e2e
stack file is a real stack file (`Pulumi.dev.yaml`, `Pulumi.prod.yaml`, ...) plus only what a
node-less test cluster without network needs: every chart taken from the published charts on disk
(and ambient's Gateway API CRDs from their release manifest on disk), and `cluster.apiServerOnly`.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from review.stacks import PROJECT_ROOT
from scripts import engine
from scripts.local_cluster import WITHOUT_ADMISSION_WEBHOOKS, Cluster, local_cluster
from scripts.run_config import PublishedCharts, run_config, target_overrides, write_stack_config

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
    "trust",
    "multicluster",
)
PULUMI_TIMEOUT = 900
# How `pulumi preview --expect-no-changes` refuses, and how it marks a resource it would change.
NO_CHANGES_EXPECTED = "no changes were expected"
CHANGE_MARKS = ("+ ", "- ", "~ ", "+-", "-+", "++", "--")
# The headings of what a preview prints after its steps.
SUMMARY_SECTIONS = frozenset({"Policies:", "Diagnostics:", "Outputs:", "Resources:"})
# The API server's own bookkeeping, which changes whatever a stack does.
VOLATILE_RESOURCES = frozenset({"events", "events.events.k8s.io", "leases.coordination.k8s.io"})
NAMESPACE_DELETION_TIMEOUT = 120


def built_engine() -> Path | None:
    """The directory of the binaries `make engine` builds, if they are all there."""
    return engine.bin_dir() if engine.fully_built() else None


@contextmanager
def e2e_cluster(engine_bin: Path, workdir: Path) -> Iterator[Cluster]:
    """A fresh local control plane, without admission webhooks (see WITHOUT_ADMISSION_WEBHOOKS)."""
    with local_cluster(engine_bin, workdir, extra_apiserver_args=WITHOUT_ADMISSION_WEBHOOKS) as running:
        yield running


def e2e_stack_config(base_stack: str, charts: PublishedCharts, overrides: Mapping[str, Any] | None = None) -> dict:
    """A real stack file's config, with only what the test cluster needs changed."""
    harness = target_overrides(base_stack, api_server_only=True, charts=charts, overrides=overrides)
    return run_config(base_stack, {**harness, **(overrides or {})})


@dataclass
class Stack:
    """One stack of the project copy, driven through the real `pulumi` CLI."""

    name: str
    project: Path
    env: dict[str, str]
    charts: PublishedCharts
    base_stack: str
    commands: list[str] = field(default_factory=list)

    def configure(self, overrides: Mapping[str, Any] | None = None) -> None:
        """Write `Pulumi.<name>.yaml`: the base stack file with `overrides`, as an operator edits it."""
        config = e2e_stack_config(self.base_stack, self.charts, overrides)
        write_stack_config(self.project / f"Pulumi.{self.name}.yaml", config)

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
            raise AssertionError(f"pulumi {' '.join(args)} failed:\n{failure_report(result)}")
        return result

    def up(self, *args: str) -> subprocess.CompletedProcess:
        return self.pulumi("up", "--yes", "--skip-preview", *args)

    def preview_steps(self, *args: str) -> list[dict[str, Any]]:
        """The steps `pulumi preview --json` plans, other than leaving a resource as it is."""
        result = self.pulumi("preview", "--json", *args)
        return [step for step in json.loads(result.stdout).get("steps", []) if step["op"] != "same"]

    def preview(self, *args: str) -> Preview:
        """`pulumi preview` as a person reads it: policy packs report only there (not with `--json`),
        their verdict per pack only without `--diff`."""
        result = self.pulumi("preview", *args, check=False)
        return Preview(output=result.stdout + result.stderr, returncode=result.returncode)

    def review(self, *args: str) -> subprocess.CompletedProcess:
        """`python -m review <args>` run where an operator runs it: in the project, with the stack's
        backend and cluster (the project copy holds the program only; `review` comes from this checkout)."""
        return subprocess.run(
            [sys.executable, "-m", "review", *args],
            cwd=self.project,
            env={**self.env, "PYTHONPATH": str(PROJECT_ROOT)},
            capture_output=True,
            text=True,
            timeout=PULUMI_TIMEOUT,
        )

    def outputs(self) -> dict[str, Any]:
        return json.loads(self.pulumi("stack", "output", "--json").stdout)

    def kubernetes_objects(self) -> set[ObjectKey]:
        """Every Kubernetes object the stack's state holds (the objects of a Helm release are not
        in the state, only the release)."""
        resources = json.loads(self.pulumi("stack", "export").stdout)["deployment"].get("resources", [])
        return {
            object_key(resource["outputs"])
            for resource in resources
            if resource.get("custom") and "kind" in resource.get("outputs", {}) and "metadata" in resource["outputs"]
        }


@dataclass(frozen=True, kw_only=True)
class Preview:
    """What `pulumi preview` printed."""

    output: str
    returncode: int

    @property
    def proposes_changes(self) -> bool:
        """Whether `--expect-no-changes` refused the preview."""
        return NO_CHANGES_EXPECTED in self.output

    @property
    def changes(self) -> list[str]:
        """The lines of resources it would create, update, replace or delete, with the fields (`[diff: …]`)."""
        steps = itertools.takewhile(lambda line: line not in SUMMARY_SECTIONS, self.output.splitlines())
        return [line.strip() for line in steps if line.strip()[:2] in CHANGE_MARKS]

    @property
    def policies(self) -> list[str]:
        """Each policy pack's verdict (✅, ⚠️ or ❌, then the pack) and its violations, as printed."""
        lines = self.output.splitlines()
        if "Policies:" not in lines:
            return []
        section = itertools.takewhile(
            lambda line: not line or line.startswith(" "), lines[lines.index("Policies:") + 1 :]
        )
        return [line.strip() for line in section if line.strip()]


def failure_report(result: subprocess.CompletedProcess) -> str:
    """The diagnostics of a failed pulumi command (the outputs it would print after them are noise)."""
    _, found, diagnostics = result.stdout.partition("Diagnostics:")
    report = diagnostics.split("\nOutputs:", 1)[0].split("\nResources:", 1)[0] if found else result.stdout
    return f"{report[-8000:]}\n{result.stderr[-2000:]}"


# (API group, kind, namespace, name): one Kubernetes object, whatever version it is read at.
ObjectKey = tuple[str, str, str, str]


def object_key(manifest: Mapping[str, Any]) -> ObjectKey:
    group = manifest["apiVersion"].rpartition("/")[0]
    metadata = manifest["metadata"]
    return group, manifest["kind"], metadata.get("namespace") or "", metadata["name"]


def make_workspace(root: Path, *, engine_bin: Path, cluster: Cluster, automatic_log: bool = False) -> dict[str, Any]:
    """A copy of the project in `root` using this virtualenv, a file state backend and `cluster`.

    Without `automatic_log`, the CLI runs without the debug log it writes for every command since
    Pulumi 3.2xx (`~/.pulumi/logs`, compressed and encrypted), half the engine's CPU
    (docs/testing-and-performance.md): Pulumi 3.260 has no switch for it, but starts without it
    when it cannot make its log directory, here because a file takes that name in the workspace's
    own PULUMI_HOME. What the tests check does not depend on it; it nearly halves their time."""
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
    _use_this_virtualenv(project / "trust" / "Pulumi.yaml")
    _use_this_virtualenv(project / "multicluster" / "Pulumi.yaml")
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
    if not automatic_log:
        home = Path(env["PULUMI_HOME"])
        home.mkdir()
        (home / "logs").write_text("")
    return {"project": project, "env": env}


def init_stack(
    workspace: Mapping[str, Any],
    name: str,
    base_stack: str,
    charts: PublishedCharts,
    overrides: Mapping[str, Any] | None = None,
) -> Stack:
    """Create stack `name` in a workspace, from the real stack file of `base_stack` with `overrides`."""
    stack = Stack(name, workspace["project"], workspace["env"], charts, base_stack)
    stack.pulumi("stack", "init", name)
    stack.configure(overrides)
    return stack


def _use_this_virtualenv(path: Path) -> None:
    """Point a Pulumi.yaml or PulumiPolicy.yaml at the virtualenv running the tests."""
    document = yaml.safe_load(path.read_text())
    document["runtime"]["options"]["virtualenv"] = sys.prefix
    path.write_text(yaml.safe_dump(document, sort_keys=False))


def kubectl_json(cluster: Cluster, *args: str) -> dict[str, Any]:
    return json.loads(cluster.kubectl("get", *args, "-o", "json").stdout)


def live_objects(cluster: Cluster) -> dict[ObjectKey, dict[str, Any]]:
    """Every object in the cluster that is not being deleted, by its key."""
    listable = cluster.kubectl("api-resources", "--verbs=list", "-o", "name").stdout.split()
    resources = ",".join(resource for resource in listable if resource not in VOLATILE_RESOURCES)
    items = kubectl_json(cluster, resources, "--all-namespaces")["items"]
    return {object_key(item): item for item in items if "deletionTimestamp" not in item["metadata"]}


def surviving(cluster: Cluster, objects: Iterable[ObjectKey]) -> dict[ObjectKey, dict[str, Any]]:
    """Those of `objects` still in the cluster once every namespace being deleted is gone."""
    deadline = time.monotonic() + NAMESPACE_DELETION_TIMEOUT
    while any("deletionTimestamp" in item["metadata"] for item in kubectl_json(cluster, "namespaces")["items"]):
        if time.monotonic() > deadline:
            raise AssertionError(f"namespaces still terminating after {NAMESPACE_DELETION_TIMEOUT}s")
        time.sleep(1)
    live = live_objects(cluster)
    return {key: live[key] for key in objects if key in live}
