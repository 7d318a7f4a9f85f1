"""Reads a stack file the way the Pulumi CLI does, so that the review runs the program with the config
the engine would hand it.

The CLI (3.260) reads a stack file with go-yaml v3, writes what it read back as YAML and reads that
again (to put bare keys under the project's namespace), and hands each `config` value to the
program as text: scalars as their text, objects and lists as JSON. go-yaml follows YAML 1.2's core
schema, with a few readings of its own, so this module parses with ruamel.yaml (YAML 1.2) and
resolves every plain scalar with a port of go-yaml's resolver. What the program gets, as checked
against the CLI (the `engine` tests of tests/test_stack_file_yaml.py):

| in the stack file                                  | the program gets                               |
|----------------------------------------------------|------------------------------------------------|
| `true`, `True`, `TRUE`, `false`, `False`, `FALSE`  | the boolean, as `true` or `false`              |
| `on`, `yes`, `no`, `off`, `y`                      | that text: only the above are booleans         |
| `1.30`, `1e3`, `.5`, `1.0`                         | the number in Go's JSON: `1.3`, `1000`, `0.5`, `1` |
| `0x1F`, `017`, `0o17`, `0b101`, `1_000`            | the integer: `31`, `15`, `15`, `5`, `1000`     |
| `2026-01-01`, `2026-01-01T10:00:00Z`               | Go's text of that time: `2026-01-01 00:00:00 +0000 UTC` |
| `~`, `null`, nothing                               | an empty string (a key's value), `null` (inside an object) |
| `.nan`, `.inf`                                     | nothing: the CLI refuses the file (JSON has no such number) |
| `{secure: v1:…}` (`pulumi config set --secret`)    | the decrypted text, and the key is secret      |

Refused, each with a one-line `StackYamlError`: bytes that are not UTF-8 (naming the byte offset),
control characters, a key defined twice in one mapping, an anchor that contains itself, alias
expansion beyond go-yaml's bound (`ALIAS_RATIO`, below), nesting deeper than `MAX_DEPTH`, a second
document (which the CLI would silently ignore) and anything else that is not YAML. Messages echo
at most `ECHO_LIMIT` characters of any text from the file.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import json
import math
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.composer import Composer, MaxDepthExceededError
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.resolver import VersionedResolver
from ruamel.yaml.tag import Tag

from settings.problems import bounded

MAX_DEPTH = 64
"""The deepest nesting read, counting what aliases expand to; a stack file needs about six levels.
(go-yaml stops at 10,000; Python's own recursion stops long before that.)"""

ALIAS_RATIO = (
    "go-yaml v3's: past 1,000 values, at most 99% of them from aliases, tightening to 10% from 400,000 to 4,000,000"
)
"""How much alias expansion a document may hold: the bound the Pulumi CLI applies, ported in `_Decoder`."""


class StackYamlError(ValueError):
    """A stack file the Pulumi CLI would not read, or would read differently than it looks. One line."""


def read_yaml_document(data: bytes) -> Any:
    """The document in `data` as go-yaml v3 decodes it: dicts (string keys), lists, str, int,
    float, bool and None; timestamps as Go's text of the time."""
    text = _text(data)
    node = _compose(text)
    return None if node is None else _Decoder().decode(node)


def _text(data: bytes) -> str:
    """The file's text: UTF-8 (a byte-order mark is dropped, as the CLI does), or UTF-16 with a
    byte-order mark, which go-yaml reads too."""
    for bom, encoding in ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            return _decoded(data[len(bom) :], encoding, offset=len(bom))
    if data.startswith(codecs.BOM_UTF8):
        return _decoded(data[len(codecs.BOM_UTF8) :], "utf-8", offset=len(codecs.BOM_UTF8))
    return _decoded(data, "utf-8", offset=0)


def _decoded(data: bytes, encoding: str, *, offset: int) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise StackYamlError(
            f"is not {encoding.upper().removesuffix('-LE').removesuffix('-BE')}: byte 0x{data[error.start]:02x} at "
            f"byte offset {offset + error.start} (line {line}) cannot be decoded; allowed: UTF-8 text (save the "
            "file as UTF-8)"
        ) from None


# A plain scalar without a tag: resolved later by `_resolve`, as go-yaml resolves it.
_PLAIN = "tag:servicemesh,2026:plain"
_STR = "tag:yaml.org,2002:str"


class _PlainScalarsLeftUnresolved(VersionedResolver):
    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is ScalarNode and implicit[0]:
            return Tag(suffix=_PLAIN)
        return super().resolve(kind, value, (False, False) if kind is ScalarNode else implicit)


class _NonSpecificTagIsAString(Composer):
    """`! 12` is the string "12" (YAML's non-specific tag), which ruamel reads as a plain scalar."""

    def compose_scalar_node(self, anchor: Any) -> Any:
        event = self.parser.peek_event()
        node = super().compose_scalar_node(anchor)
        if event.ctag is not None and str(event.ctag) == "!":
            node.tag = _STR
        return node


def _compose(text: str) -> Node | None:
    """The first document's node graph (aliases are shared nodes, not yet expanded)."""
    yaml = YAML(typ="safe", pure=True)
    yaml.version = (1, 2)
    yaml.Resolver = _PlainScalarsLeftUnresolved
    yaml.Composer = _NonSpecificTagIsAString
    yaml.max_depth = MAX_DEPTH
    try:
        with warnings.catch_warnings():
            # A reused anchor name is allowed (the later one wins), as in go-yaml.
            warnings.simplefilter("ignore")
            documents = yaml.compose_all(text)
            first = next(documents, None)
            second = next(documents, None)
    except MaxDepthExceededError as error:
        raise StackYamlError(
            f"nests deeper than {MAX_DEPTH} levels{_where(error.problem_mark)}; allowed: {MAX_DEPTH}"
        ) from None
    except ReaderError as error:
        line, column = _line_and_column(text, error.position)
        character = f"{error.character:04X}"
        raise StackYamlError(
            f"holds the control character U+{character} at line {line}, column {column}: YAML allows none "
            f"outside escapes; write it as \\u{character} in a double-quoted string"
        ) from None
    except MarkedYAMLError as error:
        problem = error.problem or error.context or "malformed"
        raise StackYamlError(f"is not valid YAML: {bounded(problem)}{_where(error.problem_mark)}") from None
    except (YAMLError, RecursionError) as error:
        raise StackYamlError(f"is not valid YAML: {bounded(str(error))}") from None
    if second is not None:
        # Reported at its `---` line (the node starts at its first value).
        lines = text.splitlines()[: second.start_mark.line + 1]
        start = next((number for number in range(len(lines), 0, -1) if lines[number - 1].startswith("---")), None)
        raise StackYamlError(
            f"holds a second YAML document (from line {start or second.start_mark.line + 1}), which the Pulumi CLI "
            "would ignore: a stack file is one document; remove the '---' line and what follows, or merge it into "
            "the first"
        )
    return first


def _where(mark: Any) -> str:
    return f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""


def _line_and_column(text: str, position: int) -> tuple[int, int]:
    line_start = text.rfind("\n", 0, position) + 1
    return text.count("\n", 0, position) + 1, position - line_start + 1


# --- go-yaml v3.0.1's resolve.go, ported -------------------------------------------------------

_YAML_TAG_PREFIX = "tag:yaml.org,2002:"
_YAML_STYLE_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
# What Go's ParseFloat reads of a text that starts with '.': digits, which '_' may separate, and an exponent.
_GO_FLOAT_FROM_DOT = re.compile(r"\.[0-9](_?[0-9])*([eE][-+]?[0-9](_?[0-9])*)?")
_RESOLVABLE_TAGS = ("", "!!str", "!!bool", "!!int", "!!float", "!!null", "!!timestamp")
_BY_NAME: dict[str, tuple[str, Any]] = {
    **dict.fromkeys(("true", "True", "TRUE"), ("!!bool", True)),
    **dict.fromkeys(("false", "False", "FALSE"), ("!!bool", False)),
    **dict.fromkeys(("", "~", "null", "Null", "NULL"), ("!!null", None)),
    **dict.fromkeys((".nan", ".NaN", ".NAN"), ("!!float", math.nan)),
    **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), ("!!float", math.inf)),
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), ("!!float", -math.inf)),
}
_INT64 = range(-(2**63), 2**63)
_UINT64 = range(2**64)


def _short_tag(tag: str) -> str:
    text = "" if tag == _PLAIN else tag
    return "!!" + text.removeprefix(_YAML_TAG_PREFIX) if text.startswith(_YAML_TAG_PREFIX) else text


def _resolve(tag: str, text: str) -> tuple[str, Any]:
    """go-yaml's `resolve(tag, in)`: the tag a scalar resolves to and its value."""
    if tag not in _RESOLVABLE_TAGS:
        return tag, text
    resolved_tag, value = _resolve_plain(text) if tag != "!!str" else ("!!str", text)
    if tag in ("", resolved_tag, "!!str"):
        return resolved_tag, value
    if tag == "!!float" and resolved_tag == "!!int":
        return "!!float", float(value)
    raise StackYamlError(
        f"tags {bounded(text)!r} {tag}, but it reads as {resolved_tag}; remove the tag or fix the value"
    )


def _resolve_plain(text: str) -> tuple[str, Any]:
    if text in _BY_NAME:
        return _BY_NAME[text]
    hint = text[0]
    if hint == ".":
        number = _float(text, _GO_FLOAT_FROM_DOT)
        return ("!!float", number) if number is not None else ("!!str", text)
    if hint in "+-0123456789":
        if (time := _go_timestamp(text)) is not None:
            return "!!timestamp", time
        plain = text.replace("_", "")
        if (integer := _go_parse_int(plain)) is not None:
            return "!!int", integer
        if (number := _float(plain, _YAML_STYLE_FLOAT)) is not None:
            return "!!float", number
    return "!!str", text


def _float(text: str, syntax: re.Pattern[str]) -> float | None:
    """Go's ParseFloat of `text` if it has that `syntax`; an overflow is no float (go-yaml keeps the text)."""
    if not syntax.fullmatch(text):
        return None
    number = float(text)
    return None if math.isinf(number) else number


def _go_parse_int(text: str) -> int | None:
    """Go's ParseInt(text, 0, 64), then ParseUint(text, 0, 64): 0x hex, 0o or a leading 0 octal, 0b binary."""
    match = re.fullmatch(r"([-+]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)", text)
    if match is None:
        return None
    sign, digits = match.groups()
    if digits[:2].lower() in ("0x", "0o", "0b"):
        magnitude = int(digits[2:], {"x": 16, "o": 8, "b": 2}[digits[1].lower()])
    else:
        magnitude = int(digits, 8 if digits.startswith("0") else 10)
    integer = -magnitude if sign == "-" else magnitude
    return integer if integer in _INT64 or (not sign and integer in _UINT64) else None


_TIMESTAMP = re.compile(
    r"(?P<year>[0-9]{4})-(?P<month>[0-9]{1,2})-(?P<day>[0-9]{1,2})"
    r"(?:(?P<t>[Tt ])(?P<hour>[0-9]{1,2}):(?P<minute>[0-9]{1,2}):(?P<second>[0-9]{1,2})"
    r"(?:[.,](?P<fraction>[0-9]+))?(?P<zone>Z|[+-][0-9]{2}:[0-9]{2})?)?"
)
_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _go_timestamp(text: str) -> str | None:
    """go-yaml's `parseTimestamp` (Go's time.Parse with layouts `2006-1-2T15:4:5.999999999Z07:00`,
    the same with `t`, `2006-1-2 15:4:5.999999999` and `2006-1-2`), as the Go text of the time the
    CLI hands on (`Time.String()`). An offset of zero reads as UTC, as the CLI's second reading
    makes it; any other offset keeps it, as on a machine whose local time zone is UTC."""
    match = _TIMESTAMP.fullmatch(text)
    if match is None or (match["t"] in ("T", "t")) != (match["zone"] is not None):
        return None
    year, month, day = int(match["year"]), int(match["month"]), int(match["day"])
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    if not 1 <= month <= 12 or not 1 <= day <= _DAYS_IN_MONTH[month - 1] + (month == 2 and leap):
        return None
    hour, minute, second = (int(match[part] or 0) for part in ("hour", "minute", "second"))
    if hour > 23 or minute > 59 or second > 59:
        return None
    zone = match["zone"] or "Z"
    zone_hours, zone_minutes = (0, 0) if zone == "Z" else (int(zone[1:3]), int(zone[4:6]))
    if zone_hours > 24 or zone_minutes > 60:
        return None
    offset_minutes = (zone_hours * 60 + zone_minutes) * (-1 if zone[0] == "-" else 1)
    fraction = (match["fraction"] or "")[:9].ljust(9, "0").rstrip("0")
    clock = f"{year:04d}-{month:02d}-{day:02d} {hour:02d}:{minute:02d}:{second:02d}" + (
        f".{fraction}" if fraction else ""
    )
    if offset_minutes == 0:
        return f"{clock} +0000 UTC"
    sign = "-" if offset_minutes < 0 else "+"
    numeric = f"{sign}{abs(offset_minutes) // 60:02d}{abs(offset_minutes) % 60:02d}"
    return f"{clock} {numeric} {numeric}"


def _go_json_number(number: float) -> str:
    """Go's encoding/json text of a float64: plain decimal from 1e-6 up to 1e21, else `1e+21`, `1.234e-7`."""
    return _go_float(number, plain=range(-6, 21), exponent_digits=1)


def _go_key_text(key: Any) -> str:
    """A non-string mapping key as the CLI turns it into a string (Go's `%v`: floats as `1e+06`)."""
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "<nil>"
    if isinstance(key, float):
        return _go_float(key, plain=range(-4, 6), exponent_digits=2)
    return str(key)


def _go_float(number: float, *, plain: range, exponent_digits: int) -> str:
    """The shortest digits that read back to `number` (Go's and Python's alike), in plain decimal for
    the decimal exponents in `plain`, else in exponent form. Zero has no sign: the CLI's second
    reading turns `-0` into the integer 0."""
    if number == 0:
        return "0"
    sign = "-" if number < 0 else ""
    decimal = Decimal(repr(abs(number))).normalize()
    exponent = decimal.adjusted()
    if exponent in plain:
        return sign + format(decimal, "f")
    digits = "".join(map(str, decimal.as_tuple().digits))
    mantissa = digits[0] + (f".{digits[1:]}" if len(digits) > 1 else "")
    return f"{sign}{mantissa}e{'-' if exponent < 0 else '+'}{abs(exponent):0{exponent_digits}d}"


# --- decoding a node graph, as go-yaml's decoder does --------------------------------------------


@dataclass
class _Decoder:
    """Expands the node graph into values, counting what aliases add: go-yaml v3 refuses a document
    once more than 100 of its first 1,000+ values came from aliases and their share passes 99%
    (tightening from 400,000 values to 10% at 4,000,000), which stops a "billion laughs" after about
    a thousand values instead of building billions."""

    values: int = 0
    from_aliases: int = 0
    defined: set[int] = field(default_factory=set)
    expanding: list[Node] = field(default_factory=list)

    def decode(self, node: Node, *, depth: int = 0, aliased: bool = False) -> Any:
        if depth > MAX_DEPTH:
            raise StackYamlError(f"nests deeper than {MAX_DEPTH} levels{_where(node.start_mark)}; allowed: {MAX_DEPTH}")
        if node.anchor is not None:
            if any(node is open_node for open_node in self.expanding):
                raise StackYamlError(
                    f"has an anchor {bounded(node.anchor)!r} that contains itself{_where(node.start_mark)}; allowed: "
                    "aliases to anchors outside them"
                )
            aliased = aliased or id(node) in self.defined
            self.defined.add(id(node))
        self._count(aliased, node)
        self.expanding.append(node)
        try:
            if isinstance(node, MappingNode):
                return self._mapping(node, depth=depth, aliased=aliased)
            if isinstance(node, SequenceNode):
                return [self.decode(item, depth=depth + 1, aliased=aliased) for item in node.value]
            return self._scalar(node)
        finally:
            self.expanding.pop()

    def _count(self, aliased: bool, node: Node) -> None:
        self.values += 1
        self.from_aliases += aliased
        if (
            self.from_aliases > 100
            and self.values > 1000
            and self.from_aliases / self.values > _allowed_ratio(self.values)
        ):
            raise StackYamlError(
                f"contains excessive aliasing (by line {node.start_mark.line + 1}): {self.from_aliases} of its first "
                f"{self.values} values come from aliases; allowed: {ALIAS_RATIO}"
            )

    def _scalar(self, node: ScalarNode) -> Any:
        tag, value = _resolve(_short_tag(node.tag), node.value)
        if tag == "!!binary":
            try:
                # Go's base64 decoder skips line breaks, and nothing else.
                data = base64.b64decode(re.sub(r"[\r\n]", "", node.value), validate=True)
                return data.decode("utf-8", errors="replace")
            except binascii.Error:
                raise StackYamlError(
                    f"has a !!binary value that is not base64{_where(node.start_mark)}; allowed: base64 text"
                ) from None
        return value

    def _mapping(self, node: MappingNode, *, depth: int, aliased: bool) -> dict[str, Any]:
        _refuse_duplicate_keys(node)
        result: dict[str, Any] = {}
        where: dict[str, Node] = {}
        merges: list[Node] = []
        for key_node, value_node in node.value:
            if _is_merge(key_node):
                merges.append(value_node)
                continue
            key = self._key(key_node, depth=depth, aliased=aliased)
            if key in where:
                raise StackYamlError(
                    f"defines key {bounded(key)!r} twice in one mapping, spelled differently (lines "
                    f"{where[key].start_mark.line + 1} and {key_node.start_mark.line + 1}); allowed: each key once"
                )
            where[key] = key_node
            result[key] = self.decode(value_node, depth=depth + 1, aliased=aliased)
        # A merge (`<<: *base`) adds the keys the mapping does not set itself; of several merged
        # mappings, the first that sets a key wins.
        for merge in merges:
            for merged in merge.value if isinstance(merge, SequenceNode) else [merge]:
                if not isinstance(merged, MappingNode):
                    raise StackYamlError(
                        f"merges (<<) something other than a mapping{_where(merged.start_mark)}; allowed: a "
                        "mapping or a list of mappings"
                    )
                values = self.decode(merged, depth=depth + 1, aliased=aliased)
                result |= {key: value for key, value in values.items() if key not in result}
        return result

    def _key(self, node: Node, *, depth: int, aliased: bool) -> str:
        if not isinstance(node, ScalarNode):
            raise StackYamlError(f"has a list or mapping as a key{_where(node.start_mark)}; allowed: a scalar key")
        key = self.decode(node, depth=depth + 1, aliased=aliased)
        return key if isinstance(key, str) else _go_key_text(key)


def _allowed_ratio(values: int) -> float:
    low, high = 400_000, 4_000_000
    if values <= low:
        return 0.99
    if values >= high:
        return 0.10
    return 0.99 - 0.89 * (values - low) / (high - low)


def _is_merge(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.value == "<<" and _short_tag(node.tag) in ("", "!", "!!merge")


def _refuse_duplicate_keys(node: MappingNode) -> None:
    """go-yaml's check: two keys of one mapping written the same way."""
    first_line: dict[str, int] = {}
    for key_node, _ in node.value:
        if not isinstance(key_node, ScalarNode):
            continue
        line = key_node.start_mark.line + 1
        if key_node.value in first_line:
            raise StackYamlError(
                f"defines key {bounded(key_node.value)!r} twice in one mapping (lines {first_line[key_node.value]} "
                f"and {line}); allowed: each key once"
            )
        first_line[key_node.value] = line


def _secure_ciphertext(value: Any) -> str | None:
    """The ciphertext of a `{secure: …}` value (`pulumi config set --secret`), else None."""
    if isinstance(value, dict) and len(value) == 1 and isinstance(value.get("secure"), str):
        return value["secure"]
    return None


def holds_secure(value: Any) -> bool:
    """Whether a config value is, or holds at any depth, a `{secure: …}` value."""
    if _secure_ciphertext(value) is not None:
        return True
    if isinstance(value, dict):
        return any(map(holds_secure, value.values()))
    return isinstance(value, list) and any(map(holds_secure, value))


# Go's encoding/json escapes these inside strings (HTML-safe output), where nothing else holds them.
_GO_JSON_ESCAPES = str.maketrans({character: f"\\u{ord(character):04x}" for character in "<>&\u2028\u2029"})


def engine_text(key: str, value: Any, *, secret: str) -> str:
    """A config value as the engine hands it to the program: a scalar as its text (null as ''),
    an object or a list as JSON with sorted keys; each `{secure: …}` value becomes `secret`."""
    refuse_non_finite(key, value)
    value = _with_secrets(value, secret)
    if isinstance(value, dict | list):
        text = json.dumps(_go_numbers(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return text.translate(_GO_JSON_ESCAPES)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _go_json_number(value)
    return str(value)


def refuse_non_finite(key: str, value: Any) -> None:
    """NaN and infinities have no JSON, so the CLI refuses a stack file that holds one."""
    for place, number in _non_finite(value):
        spelled = ".nan" if math.isnan(number) else ("-.inf" if number < 0 else ".inf")
        raise StackYamlError(
            f"sets {bounded(key + place)} = {spelled}, a number JSON cannot hold, so the Pulumi CLI refuses the "
            "file; allowed: a finite number, or a quoted string"
        )


def _non_finite(value: Any, place: str = "") -> Iterator[tuple[str, float]]:
    if isinstance(value, float) and not math.isfinite(value):
        yield place, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _non_finite(item, f"{place}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _non_finite(item, f"{place}[{index}]")


def _with_secrets(value: Any, secret: str) -> Any:
    if _secure_ciphertext(value) is not None:
        return secret
    if isinstance(value, dict):
        return {key: _with_secrets(item, secret) for key, item in value.items()}
    if isinstance(value, list):
        return [_with_secrets(item, secret) for item in value]
    return value


def _go_numbers(value: Any) -> Any:
    """Floats as the program reads Go's JSON of them: `1.0` is the integer 1."""
    if isinstance(value, float):
        return json.loads(_go_json_number(value))
    if isinstance(value, dict):
        return {key: _go_numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_go_numbers(item) for item in value]
    return value
