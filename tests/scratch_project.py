"""A throwaway Pulumi project run by the engine tools/engine builds, for tests that check what the
real CLI does (marked `engine`): a file backend, a passphrase, the project's virtualenv, and a
program of the test's own."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from review.stacks import PROJECT, PROJECT_ROOT

BUILD = PROJECT_ROOT / "tools" / "engine" / "build"
STACK = "probe"


@dataclass(frozen=True)
class ScratchProject:
    directory: Path
    env: dict[str, str]

    def pulumi(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = ["pulumi", *args, "--stack", STACK, "--non-interactive"]
        return subprocess.run(command, cwd=self.directory, env=self.env, capture_output=True, text=True, check=check)

    @property
    def stack_file(self) -> Path:
        return self.directory / f"Pulumi.{STACK}.yaml"


def scratch_project(tmp_path: Path, program: str) -> ScratchProject:
    """A project named like this one (so bare config keys land in its namespace) running `program`,
    with one stack; skips the test when the engine is not built."""
    found = subprocess.run([str(BUILD), "--print-bin-dir"], capture_output=True, text=True, check=False)
    if found.returncode != 0 or subprocess.run([str(BUILD), "--check"], capture_output=True).returncode != 0:
        pytest.skip("engine binaries not built: run `make engine` (tools/engine/build)")
    directory = tmp_path / "project"
    directory.mkdir()
    (directory / "Pulumi.yaml").write_text(
        f"name: {PROJECT}\nruntime:\n  name: python\n  options:\n    toolchain: pip\n    virtualenv: {sys.prefix}\n"
    )
    (directory / "__main__.py").write_text(program)
    (tmp_path / "state").mkdir()
    env = {
        "PATH": f"{found.stdout.strip()}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "PULUMI_HOME": str(tmp_path / "pulumi-home"),
        "PULUMI_BACKEND_URL": f"file://{tmp_path / 'state'}",
        "PULUMI_CONFIG_PASSPHRASE": "scratch",
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PYTHONPATH": str(PROJECT_ROOT),
    }
    subprocess.run(["pulumi", "stack", "init", STACK], cwd=directory, env=env, check=True, capture_output=True)
    return ScratchProject(directory, env)
