"""How large one stack may grow: past this, the engine, not the program, makes every update slow.

The program's cost is flat per app (about 30 ms of CPU under mocks, `benchmarks/apps_scaling.py`),
but Pulumi writes the whole state after every step of an update, so a first `pulumi up` grows
with the square of the stack's size: on the 2-core development machine, 1 app took 66 s, 10 apps
98 s, 50 apps 301 s (`benchmarks/engine_timings.py --apps N`), which puts 100 apps near 12
minutes and 500 near 3 hours. Apps beyond the limit belong in another stack.
"""

from __future__ import annotations

from collections.abc import Iterator

from settings.problems import NAMESPACE, ConfigProblem
from settings.stack import StackSettings

MAX_APPS = 100
"""The most apps one stack declares."""


def stack_size_problems(settings: StackSettings) -> Iterator[ConfigProblem]:
    """A stack declaring more than `MAX_APPS` apps."""
    if len(settings.apps) > MAX_APPS:
        yield ConfigProblem(
            f"{NAMESPACE}:apps",
            f"at most {MAX_APPS} apps per stack: Pulumi rewrites the whole state after every step, so "
            "a first update grows with the square of the stack's size; split the apps across stacks",
            f"{len(settings.apps)} apps",
        )
