"""A bad stack config value, and the error that reports every one of them at once.

Both the reading of the config (`settings.loader`) and the rules that span keys (`settings.rules`
and each mesh's `rules`) report problems this way: the full key, the value found, what is allowed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi

NAMESPACE = "servicemesh"

MISSING = object()


@dataclass(frozen=True)
class ConfigProblem:
    """One bad stack config value: where it is, what it was and what is allowed."""

    key: str
    message: str
    value: Any = MISSING

    def __str__(self) -> str:
        if self.value is MISSING:
            return f"{self.key}: {self.message}"
        return f"{self.key} = {json.dumps(self.value)}: {self.message}"


class ConfigError(pulumi.RunError):
    """Bad stack configuration. A RunError, so Pulumi prints the message without a traceback."""

    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(
            f"invalid stack configuration ({len(problems)} problem{'s' if len(problems) != 1 else ''}):\n{lines}\n"
            "See the configuration reference in docs/configuration.md."
        )
