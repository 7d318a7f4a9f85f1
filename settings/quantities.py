"""Kubernetes resource quantities: validation and conversion to numbers.

The grammar is the one `k8s.io/apimachinery/pkg/api/resource` accepts, restricted to
non-negative values (a negative request or limit is never meaningful), with ASCII digits only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

_QUANTITY = re.compile(
    r"\+?(?P<number>[0-9]+(\.[0-9]*)?|\.[0-9]+)"
    r"(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?"
)

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"m": Decimal("0.001"), "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18}

MAX_QUANTITY = Decimal(2**63 - 1) / 1000
"""The largest quantity whose value in thousandths (how Kubernetes counts CPU, and what its
`MilliValue()` returns for any quantity) still fits an int64: about 9.2e15 cores or bytes (8 PiB)."""


def is_quantity(text: str) -> bool:
    """Whether `text` is a Kubernetes quantity such as `100m`, `128Mi` or `1.5`."""
    return _QUANTITY.fullmatch(text) is not None


def parse_quantity(text: str) -> Decimal:
    """The value of a quantity in base units (cores for CPU, bytes for memory); `Infinity` for an
    exponent too large to compute with."""
    match = _QUANTITY.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not a Kubernetes quantity")
    number = match["number"]
    suffix = match["suffix"] or ""
    if suffix in _BINARY:
        return Decimal(number) * _BINARY[suffix]
    if suffix in _DECIMAL:
        return Decimal(number) * _DECIMAL[suffix]
    if suffix:
        try:
            return Decimal(f"{number}E{suffix[1:]}")
        except InvalidOperation:
            # An exponent of thousands of digits: beyond any bound when positive, nothing when negative.
            return Decimal(0) if suffix[1] == "-" else Decimal("Infinity")
    return Decimal(number)


@dataclass(frozen=True)
class Requests:
    """CPU in cores and memory in bytes."""

    cpu: Decimal = Decimal(0)
    memory: Decimal = Decimal(0)

    def __add__(self, other: Requests) -> Requests:
        return Requests(self.cpu + other.cpu, self.memory + other.memory)

    def __mul__(self, replicas: int) -> Requests:
        return Requests(self.cpu * replicas, self.memory * replicas)

    def describe(self) -> dict[str, str]:
        """CPU in cores and memory in MiB, as readable strings."""
        return {"cpu": f"{self.cpu.normalize():f}", "memoryMiB": f"{(self.memory / 2**20).normalize():f}"}
