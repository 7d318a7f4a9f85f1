"""Stack files are read as the Pulumi CLI reads them (go-yaml v3, YAML 1.2), so the offline review
runs the program with the config `pulumi preview` would give it; what the CLI would not read, or
would read differently than it looks, is refused in one line that names the file and the place,
echoes at most a bounded part of the value and says what is allowed, never with a traceback."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import tracemalloc

import pytest
from scratch_project import scratch_project
from stack_harness import PROJECT_ROOT, run_program
from typer.testing import CliRunner

from review.cli import app
from review.engine_yaml import MAX_DEPTH
from review.stacks import StackFileError, engine_config, read_stack_file
from settings.loader import ConfigError
from settings.problems import ECHO_LIMIT, ConfigProblem

# What the Pulumi CLI 3.260 hands the program for a value written so (a key's own value), as
# `test_the_cli_reads_each_scalar_so` checks against the CLI itself.
ENGINE_READINGS = [
    ("true", "true"),
    ("True", "true"),
    ("FALSE", "false"),
    ("on", "on"),
    ("yes", "yes"),
    ("no", "no"),
    ("off", "off"),
    ("y", "y"),
    ("1.30", "1.3"),
    ("1.0", "1"),
    ("1e3", "1000"),
    ("1e100", "1e+100"),
    ("0.0000001", "1e-7"),
    ("1e21", "1e+21"),
    (".5", "0.5"),
    ("-0.0", "0"),
    ("017", "15"),
    ("08", "8"),
    ("0o17", "15"),
    ("0x1F", "31"),
    ("0b101", "5"),
    ("1_000", "1000"),
    ("+12", "12"),
    ("99999999999999999999", "100000000000000000000"),
    ("18446744073709551615", "18446744073709551615"),
    ("1e400", "1e400"),
    ("2026-01-01", "2026-01-01 00:00:00 +0000 UTC"),
    ("2026-01-01T10:00:00Z", "2026-01-01 10:00:00 +0000 UTC"),
    ("2026-01-01T10:00:00.5+02:00", "2026-01-01 10:00:00.5 +0200 +0200"),
    ("2026-1-2 3:04:05", "2026-01-02 03:04:05 +0000 UTC"),
    ("2026-13-01", "2026-13-01"),
    ('"2026-01-01"', "2026-01-01"),
    ("1:20", "1:20"),
    ("~", ""),
    ("null", ""),
    ("", ""),
    ('"1.30"', "1.30"),
    ("!!str 1.30", "1.30"),
    ("! 12", "12"),
    ('!!int "12"', "12"),
    ("!!float 3", "3"),
    ("!!binary aGVsbG8=", "hello"),
    ("{b: 1.30, a: on, c: 2026-01-01, d: ~, e: [yes, 1.0]}",
     '{"a":"on","b":1.3,"c":"2026-01-01 00:00:00 +0000 UTC","d":null,"e":["yes",1]}'),
    ("{1: a, true: b, ~: c}", '{"1":"a","\\u003cnil\\u003e":"c","true":"b"}'),
    ("{<<: {a: 1, b: 1}, b: 2}", '{"a":1,"b":2}'),
    ("[1, on, 1.50, ~]", '[1,"on",1.5,null]'),
]  # fmt: skip


def stack_file(tmp_path, text, *, stack="dev"):
    path = tmp_path / f"Pulumi.{stack}.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def real_stack_text(stack):
    return (PROJECT_ROOT / f"Pulumi.{stack}.yaml").read_text()


def read_refusal(path):
    with pytest.raises(StackFileError) as refused:
        read_stack_file(path)
    return str(refused.value)


@pytest.mark.parametrize(("written", "handed"), ENGINE_READINGS)
def test_each_value_reaches_the_program_as_the_cli_hands_it(tmp_path, written, handed):
    path = stack_file(tmp_path, f"config:\n  servicemesh:probe: {written}\n")

    assert engine_config(read_stack_file(path))["servicemesh:probe"] == handed


def test_a_bare_key_is_in_the_projects_namespace_and_the_old_config_form_too(tmp_path):
    path = stack_file(tmp_path, "config:\n  environment: dev\n  servicemesh:config:apps: []\n")

    assert engine_config(read_stack_file(path)) == {"servicemesh:environment": "dev", "servicemesh:apps": "[]"}


def test_on_is_no_boolean_so_prod_refuses_it_for_protect_crds(tmp_path):
    text = real_stack_text("prod")
    path = stack_file(tmp_path, text.replace("protectCrds: true", "protectCrds: on"), stack="prod")

    run = run_program(engine_config(read_stack_file(path)), stack="prod")

    assert isinstance(run.error, ConfigError)
    assert 'servicemesh:mesh.protectCrds = "on": wrong type (str); must be a boolean (true or false)' in str(run.error)
    assert run.resources == []


def test_a_namespace_called_no_is_a_namespace(tmp_path):
    path = stack_file(tmp_path, real_stack_text("dev").replace("namespace: sample", "namespace: no"))

    run = run_program(engine_config(read_stack_file(path)), stack="dev")

    assert run.error is None
    assert any(resource.inputs["metadata"]["name"] == "no" for resource in run.of_type("kubernetes:core/v1:Namespace"))


def test_a_date_like_revision_name_is_refused_as_the_engine_hands_it_not_with_a_traceback(tmp_path):
    text = real_stack_text("dev").replace("- name: 1-30-3", "- name: 2026-01-01")
    path = stack_file(tmp_path, text)

    run = run_program(engine_config(read_stack_file(path)), stack="dev")

    assert isinstance(run.error, ConfigError)
    assert 'servicemesh:mesh.istio.revisions[0].name = "2026-01-01 00:00:00 +0000 UTC"' in str(run.error)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            "config:\n  servicemesh:environment: dev\n  servicemesh:environment: prod\n",
            "Pulumi.dev.yaml defines key 'servicemesh:environment' twice in one mapping (lines 2 and 3); "
            "allowed: each key once",
            id="top-level",
        ),
        pytest.param(
            "config:\n  servicemesh:mesh:\n    mtlsMode: STRICT\n    protectCrds: true\n    mtlsMode: PERMISSIVE\n",
            "Pulumi.dev.yaml defines key 'mtlsMode' twice in one mapping (lines 3 and 5); allowed: each key once",
            id="nested",
        ),
        pytest.param(
            "config:\n  servicemesh:mesh:\n    protectCrds: true\n    'protectCrds': false\n",
            "Pulumi.dev.yaml defines key 'protectCrds' twice in one mapping (lines 3 and 4)",
            id="quoted-twin",
        ),
        pytest.param(
            "config:\n  servicemesh:x:\n    true: a\n    True: b\n",
            "Pulumi.dev.yaml defines key 'true' twice in one mapping, spelled differently (lines 3 and 4)",
            id="spelled-differently",
        ),
        pytest.param(
            "config:\n  mesh: {}\n  servicemesh:mesh: {}\n",
            "Pulumi.dev.yaml has config keys 'mesh' and 'servicemesh:mesh', which both name 'servicemesh:mesh'",
            id="bare-and-namespaced",
        ),
    ],
)
def test_a_key_defined_twice_is_refused_naming_it_and_its_lines(tmp_path, text, message):
    assert message in read_refusal(stack_file(tmp_path, text))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param(
            b"config:\n  servicemesh:environment: d\xe9v\n",
            "Pulumi.dev.yaml is not UTF-8: byte 0xe9 at byte offset 36 (line 2) cannot be decoded; allowed: UTF-8",
            id="latin-1",
        ),
        pytest.param(
            b"config:\n  servicemesh:environment: \xff\xfe\n",
            "Pulumi.dev.yaml is not UTF-8: byte 0xff at byte offset 35 (line 2)",
            id="stray-bytes",
        ),
        pytest.param(
            b"config:\n  servicemesh:environment: d\x01ev\n",
            "Pulumi.dev.yaml holds the control character U+0001 at line 2, column 29: YAML allows none outside escapes",
            id="control-character",
        ),
    ],
)
def test_text_the_cli_cannot_decode_is_refused_naming_the_place(tmp_path, data, message):
    assert message in read_refusal(stack_file(tmp_path, data))


def test_a_byte_order_mark_is_read_as_the_cli_reads_it(tmp_path):
    utf8 = stack_file(tmp_path, b"\xef\xbb\xbfconfig:\n  servicemesh:environment: dev\n")
    utf16 = stack_file(tmp_path, "config:\n  servicemesh:environment: dév\n".encode("utf-16"), stack="qa")

    assert read_stack_file(utf8) == {"servicemesh:environment": "dev"}
    assert read_stack_file(utf16) == {"servicemesh:environment": "dév"}


def billion_laughs(levels=9):
    lines = ["config:", "  servicemesh:a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"  servicemesh:a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_fast_in_little_memory_with_a_short_message(tmp_path):
    path = stack_file(tmp_path, billion_laughs())
    tracemalloc.start()
    started = time.perf_counter()

    message = read_refusal(path)

    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert message.startswith("Pulumi.dev.yaml contains excessive aliasing")
    assert "allowed: go-yaml v3's" in message
    assert elapsed < 2
    assert peak < 20 * 2**20
    assert len(message) < 400


def test_aliases_within_the_bound_are_expanded_as_the_cli_expands_them(tmp_path):
    text = "config:\n  servicemesh:a: &base {x: 1}\n  servicemesh:b: *base\n  servicemesh:c: {<<: *base, y: 2}\n"

    assert read_stack_file(stack_file(tmp_path, text)) == {
        "servicemesh:a": {"x": 1},
        "servicemesh:b": {"x": 1},
        "servicemesh:c": {"x": 1, "y": 2},
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            "config:\n  servicemesh:a: &a {b: *a}\n",
            "Pulumi.dev.yaml has an anchor 'a' that contains itself",
            id="anchor-in-itself",
        ),
        pytest.param(
            "config:\n  servicemesh:a: " + "[" * 500 + "]" * 500 + "\n",
            f"Pulumi.dev.yaml nests deeper than {MAX_DEPTH} levels",
            id="deep-nesting",
        ),
        pytest.param(
            f"config:\n  servicemesh:a: &a {'[' * 40}1{']' * 40}\n  servicemesh:b: {'[' * 40}*a{']' * 40}\n",
            f"Pulumi.dev.yaml nests deeper than {MAX_DEPTH} levels",
            id="deep-through-an-alias",
        ),
        pytest.param(
            "config:\n  servicemesh:a: *nowhere\n",
            "Pulumi.dev.yaml is not valid YAML: found undefined alias 'nowhere' (line 2, column 18)",
            id="undefined-alias",
        ),
        pytest.param(
            "config:\n  servicemesh:environment: dev\n---\nconfig:\n  servicemesh:environment: prod\n",
            "Pulumi.dev.yaml holds a second YAML document (from line 3), which the Pulumi CLI would ignore",
            id="second-document",
        ),
        pytest.param(
            "config:\n  servicemesh:observability:\n    tracing:\n      samplingPercentage: .nan\n",
            "Pulumi.dev.yaml sets servicemesh:observability.tracing.samplingPercentage = .nan, a number JSON "
            "cannot hold, so the Pulumi CLI refuses the file; allowed: a finite number, or a quoted string",
            id="not-a-number",
        ),
        pytest.param(
            "config:\n  servicemesh:a: !!int twelve\n",
            "Pulumi.dev.yaml tags 'twelve' !!int, but it reads as !!str; remove the tag or fix the value",
            id="wrong-tag",
        ),
        pytest.param(
            "config:\n  a:b:c: 1\n",
            "Pulumi.dev.yaml has config key 'a:b:c', with 2 ':'; allowed: <namespace>:<name>",
            id="key-with-two-colons",
        ),
        pytest.param(
            "config: [servicemesh:environment]\n",
            "Pulumi.dev.yaml is not a stack file: a stack file is a mapping whose `config` maps keys to values",
            id="config-is-a-list",
        ),
    ],
)
def test_documents_the_cli_would_refuse_or_misread_are_refused(tmp_path, text, message):
    assert message in read_refusal(stack_file(tmp_path, text))


@pytest.mark.parametrize(
    ("text", "echoed"),
    [
        pytest.param("config:\n  servicemesh:x: !!int {huge}\n", "tags 'kkkk", id="value"),
        pytest.param("config:\n  servicemesh:x: *{huge}\n", "found undefined alias 'kkkk", id="alias"),
        pytest.param(
            "config:\n  servicemesh:x:\n    ? {huge}\n    : 1\n    ? {huge}\n    : 2\n", "key 'kkkk", id="key"
        ),
    ],
)
def test_a_refusal_echoes_a_bounded_part_of_what_the_file_holds(tmp_path, text, echoed):
    message = read_refusal(stack_file(tmp_path, text.format(huge="k" * 100_000)))

    assert echoed in message
    assert re.search(r"k… \(100,0[0-9]{2} characters\)", message)
    assert len(message) < 400


def test_a_config_problem_echoes_a_bounded_part_of_its_key_and_value():
    problem = ConfigProblem("servicemesh:" + "k" * 5000, "unknown key", "v" * 1_000_000)

    text = str(problem)

    assert len(text) < 2 * ECHO_LIMIT + 100
    assert "… (5,012 characters)" in text
    assert "… (1,000,002 characters)" in text


runner = CliRunner()

HOSTILE_FILES = {
    "latin-1": b"config:\n  servicemesh:environment: d\xe9v\n",
    "alias-bomb": billion_laughs().encode(),
    "duplicate-key": b"config:\n  servicemesh:environment: dev\n  servicemesh:environment: dev\n",
    "date-as-a-name": real_stack_text("dev").replace("- name: 1-30-3", "- name: 2026-01-01").encode(),
    "huge-value": real_stack_text("dev").replace("name: httpbin", "name: " + "h" * 200_000).encode(),
    "deep": ("config:\n  servicemesh:apps: " + "[" * 5000 + "]" * 5000 + "\n").encode(),
    "not-a-number": b"config:\n  servicemesh:environment: .inf\n",
    "second-document": b"config: {}\n---\nconfig: {}\n",
}


@pytest.mark.parametrize("name", list(HOSTILE_FILES))
def test_the_review_reports_hostile_stack_files_in_one_short_message_and_exit_2(tmp_path, name):
    path = stack_file(tmp_path, HOSTILE_FILES[name])

    result = runner.invoke(app, ["render", str(path)])

    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr.startswith("error: ")
    assert "Pulumi.dev.yaml" in result.stderr or "servicemesh:" in result.stderr
    assert "Traceback" not in result.output
    assert len(result.stderr) < 2000


def test_the_review_command_line_exits_2_on_a_latin_1_byte_without_a_traceback(tmp_path):
    path = stack_file(tmp_path, HOSTILE_FILES["latin-1"])

    result = subprocess.run(
        [sys.executable, "-m", "review", "render", str(path)], capture_output=True, text=True, cwd=PROJECT_ROOT
    )

    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "Pulumi.dev.yaml is not UTF-8: byte 0xe9 at byte offset 36 (line 2)" in result.stderr


# --- against the Pulumi CLI itself (needs the engine tools/engine builds) ------------------------

PROBE_PROGRAM = """\
import json, os
from pulumi.runtime.config import CONFIG
with open(os.environ["PROBE_OUT"], "w") as out:
    json.dump(CONFIG.get(), out)
"""


@pytest.fixture
def cli_reading(tmp_path):
    """Previews a project whose program writes down the config it gets, for a stack file's bytes;
    returns that config, or the CLI's error output when it refuses the stack file."""
    project = scratch_project(tmp_path, PROBE_PROGRAM)
    written = tmp_path / "config.json"
    project.env["PROBE_OUT"] = str(written)

    def read(data: bytes) -> dict[str, str] | str:
        project.stack_file.write_bytes(data)
        written.unlink(missing_ok=True)
        result = project.pulumi("preview", check=False)
        return json.loads(written.read_text()) if result.returncode == 0 else result.stdout + result.stderr

    return read


@pytest.mark.engine
def test_the_cli_reads_each_scalar_so(tmp_path, cli_reading):
    text = "config:\n" + "".join(
        f"  servicemesh:probe{index}: {written}\n" for index, (written, _) in enumerate(ENGINE_READINGS)
    )

    reading = cli_reading(text.encode())

    ours = engine_config(read_stack_file(stack_file(tmp_path, text)))
    assert reading == ours
    assert reading == {f"servicemesh:probe{index}": handed for index, (_, handed) in enumerate(ENGINE_READINGS)}


@pytest.mark.engine
@pytest.mark.parametrize(
    ("data", "cli_says"),
    [
        pytest.param(HOSTILE_FILES["latin-1"], "UTF-8 octet", id="latin-1"),
        pytest.param(HOSTILE_FILES["alias-bomb"], "document contains excessive aliasing", id="alias-bomb"),
        pytest.param(HOSTILE_FILES["duplicate-key"], "already defined at line 2", id="duplicate-key"),
        pytest.param(HOSTILE_FILES["not-a-number"], "json: unsupported value: +Inf", id="not-a-number"),
        pytest.param(
            b"config:\n  servicemesh:a: &a {b: *a}\n", "anchor 'a' value contains itself", id="anchor-in-itself"
        ),
    ],
)
def test_what_the_review_refuses_the_cli_refuses_too(tmp_path, cli_reading, data, cli_says):
    assert cli_says in cli_reading(data)
    with pytest.raises(StackFileError):
        read_stack_file(stack_file(tmp_path, data))
