"""The tests' import point for running the real program under Pulumi mocks.

The runner lives in `review.program` (and stack files in `review.stacks`) so that the tests and
the `python -m review` command line run the program the same way.
"""

from review.program import RegisteredResource, StackRun, run_program, run_stack
from review.stacks import DELETE, PROJECT, PROJECT_ROOT, STACKS, stack_config, stack_names

__all__ = [
    "DELETE",
    "PROJECT",
    "PROJECT_ROOT",
    "STACKS",
    "RegisteredResource",
    "StackRun",
    "run_program",
    "run_stack",
    "stack_config",
    "stack_names",
]
