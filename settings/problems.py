"""A bad stack config value, and the error that reports every one of them at once.

Both the reading of the config (`settings.loader`) and the rules that span keys (`settings.rules`
and each mesh's `rules`) report problems this way: the full key, the value found, what is allowed.
A message echoes at most `ECHO_LIMIT` characters of a key or value, and never a secret's value.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi

from settings.secrets import REDACTED, is_secret_key

NAMESPACE = "servicemesh"

MISSING = object()

ECHO_LIMIT = 100
"""The most characters of a key or value a message echoes: a value pasted by mistake (a whole
file, an alias expansion) is named, not repeated."""


def bounded(text: str) -> str:
    """`text`, cut to `ECHO_LIMIT` characters with its length said when it is longer."""
    if len(text) <= ECHO_LIMIT:
        return text
    return f"{text[: ECHO_LIMIT - 1]}… ({len(text):,} characters)"


def echo(value: Any) -> str:
    """`value` as JSON, as a message shows it, bounded."""
    return bounded(json.dumps(value, default=str))


@dataclass(frozen=True)
class ConfigProblem:
    """One bad stack config value: where it is, what it was and what is allowed."""

    key: str
    message: str
    value: Any = MISSING

    def __str__(self) -> str:
        key = bounded(self.key)
        if self.value is MISSING:
            return f"{key}: {self.message}"
        return f"{key} = {REDACTED if is_secret_key(self.key) else echo(self.value)}: {self.message}"


class ConfigError(pulumi.RunError):
    """Bad stack configuration. A RunError, so Pulumi prints the message without a traceback."""

    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(
            f"invalid stack configuration ({len(problems)} problem{'s' if len(problems) != 1 else ''}):\n{lines}\n"
            "See the configuration reference in docs/configuration.md."
        )
