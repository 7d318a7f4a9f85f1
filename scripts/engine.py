"""The project's own engine (`tools/engine`: the Pulumi CLI and providers, the local control plane):
where its binaries are, and building the missing ones with progress a person can follow.

`tools/engine/build` builds one binary after another and logs `[k/n] name ...` as it starts each.
This passes its log through and, while a binary compiles, says how long it has been at it against
the usual time measured on 2 cores (tools/engine/README.md, "Measured times"): cold, with an empty
Go build cache (about 31 minutes for all of them), and warm, a relink (about a minute for all).

    python -m scripts.engine [NAME...]   build what is missing (all by default), print the bin dir
"""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TextIO

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BUILD = PROJECT_ROOT / "tools" / "engine" / "build"
PULUMI = (
    "pulumi",
    "pulumi-language-python",
    "pulumi-resource-random",
    "pulumi-resource-tls",
    "pulumi-resource-kubernetes",
)
"""What `pulumi up` of this project needs: the CLI, the Python language host, the providers."""
# Seconds per binary (cold, warm) from tools/engine/README.md's "Measured times": the final
# script's cold column, in build order (tls right after random, which compiled most of it), and
# the warm relink column.
USUAL_SECONDS = {
    "pulumi": (351, 8),
    "pulumi-language-python": (37, 2),
    "pulumi-resource-random": (82, 5),
    "pulumi-resource-tls": (9, 5),
    "pulumi-resource-kubernetes": (532, 32),
    "etcd": (53, 1),
    "kube-apiserver": (489, 9),
    "kube-controller-manager": (137, 8),
    "kubectl": (54, 5),
    "helm": (105, 4),
}
BUILDING = re.compile(r"^\[engine\] building (?P<names>.+) into ")
STARTED = re.compile(r"^\[engine\] \[(?P<k>\d+)/(?P<n>\d+)\] (?P<name>\S+) \.\.\.$")
FINISHED = re.compile(r"^\[engine\] \[\d+/\d+\] \S+ done in ")
# How often a terminal's status line is redrawn, and how often a log (no terminal) gets a line.
TERMINAL_TICK = 1.0
LOG_TICK = 60.0


class EngineError(RuntimeError):
    """The engine could not be built; the build's own log says why."""


def bin_dir() -> Path:
    """Where the binaries are, or will be once built (the cache key of the current pins)."""
    printed = subprocess.run([str(BUILD), "--print-bin-dir"], capture_output=True, text=True, check=True)
    return Path(printed.stdout.strip())


def fully_built() -> bool:
    """Whether every binary the build makes is there."""
    return subprocess.run([str(BUILD), "--check"], capture_output=True).returncode == 0


def ensure(names: tuple[str, ...] = ()) -> Path:
    """The bin dir, after building whichever of `names` (every binary when empty) is missing."""
    if fully_built():
        return bin_dir()
    return _build_with_progress(names)


def duration(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m {rest:02d}s" if minutes else f"{rest}s"


def _usual(names: list[str]) -> str:
    cold = sum(USUAL_SECONDS.get(name, (0, 0))[0] for name in names)
    warm = sum(USUAL_SECONDS.get(name, (0, 0))[1] for name in names)
    return f"usually {duration(cold)} cold, {duration(warm)} warm"


class _Progress:
    """The build's log passed through, with a status line for the binary being built."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.terminal = out.isatty()
        self.started = time.monotonic()
        self.missing: list[str] = []
        self.current: tuple[str, str, float] | None = None  # (label, name, since)
        self.drawn = False

    def line(self, text: str) -> None:
        self._clear()
        print(text, file=self.out, flush=True)
        if match := BUILDING.match(text):
            self.missing = match["names"].split()
        elif match := STARTED.match(text):
            self.current = (f"[{match['k']}/{match['n']}] {match['name']}", match["name"], time.monotonic())
        elif FINISHED.match(text):
            self.current = None
        if self.terminal:
            self.status()

    def status(self) -> None:
        if self.current is None:
            return
        label, name, since = self.current
        now = time.monotonic()
        text = (
            f"[engine] {label}: {duration(now - since)} so far ({_usual([name])}); "
            f"all: {duration(now - self.started)} ({_usual(self.missing)})"
        )
        if self.terminal:
            print(f"\r\033[K{text}", end="", file=self.out, flush=True)
            self.drawn = True
        else:
            print(text, file=self.out, flush=True)

    def _clear(self) -> None:
        if self.drawn:
            print("\r\033[K", end="", file=self.out, flush=True)
            self.drawn = False


def _build_with_progress(names: tuple[str, ...]) -> Path:
    build = subprocess.Popen([str(BUILD), *names], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1)
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        for text in build.stderr:
            lines.put(text.rstrip("\n"))
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    progress = _Progress(sys.stderr)
    tick = TERMINAL_TICK if progress.terminal else LOG_TICK
    while True:
        try:
            text = lines.get(timeout=tick)
        except queue.Empty:
            progress.status()
            continue
        if text is None:
            break
        progress.line(text)
    progress.line(f"[engine] finished in {duration(time.monotonic() - progress.started)}")
    printed = build.stdout.read().strip()
    if build.wait() != 0:
        raise EngineError(f"tools/engine/build {' '.join(names)} failed (exit {build.returncode}); see its log above")
    return Path(printed.splitlines()[-1]) if printed else bin_dir()


def main(argv: list[str]) -> int:
    try:
        print(ensure(tuple(argv)))
    except EngineError as error:
        print(f"[engine] error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    os.chdir(PROJECT_ROOT)
    sys.exit(main(sys.argv[1:]))
