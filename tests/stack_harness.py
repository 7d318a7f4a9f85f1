"""The tests' import point for running the real program under Pulumi mocks.

The runner lives in `review.program` (and stack files in `review.stacks`) so that the tests and
the `python -m review` command line run the program the same way.
"""

import functools

from review.footprint import stack_footprint
from review.program import RegisteredResource, StackRun, run_program, run_stack
from review.stacks import DELETE, PROJECT, PROJECT_ROOT, STACKS, stack_config, stack_names


@functools.cache
def stack_run(stack: str) -> StackRun:
    """The program's run for the real `Pulumi.<stack>.yaml`, computed once per session; do not modify it."""
    return run_stack(stack)


def footprint_parts(run: StackRun) -> dict[str, dict[str, str]]:
    """What `run` requests per part and in total, as the README's footprint table shows it."""
    footprint = stack_footprint(run)
    assert not footprint.unknown, footprint.unknown
    return {part: requests.describe() for part, requests in footprint.by_part().items()} | {
        "total": footprint.total.describe()
    }


__all__ = [
    "DELETE",
    "PROJECT",
    "PROJECT_ROOT",
    "STACKS",
    "RegisteredResource",
    "StackRun",
    "footprint_parts",
    "run_program",
    "run_stack",
    "stack_config",
    "stack_names",
    "stack_run",
]
