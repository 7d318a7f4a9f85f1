"""The `python -m review` command line: render, diff, footprint, images, snapshot, affected, drift and adopt.

Exit codes: 0 success (no difference), 1 a difference (diff, snapshot check, drift), 2 bad input — an
unknown, missing or malformed stack file, bad stack config, (images) a chart that cannot be
rendered offline or no helm, (drift) a preview that failed — reported in one message without a
traceback, and 3 drift of a security-relevant field, or (adopt) a plan that would replace or
delete an object.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from mesh.implementations import SECURITY_FIELDS
from review.adopt import AdoptionPlan, adoption_plan
from review.affected import affected_stacks
from review.diff import RenderDiff, diff_renders
from review.drift import DriftError, DriftReport, drift_report, parse_preview
from review.footprint import Footprint, Requests, stack_footprint
from review.images import ImagesError, StackImage, stack_images
from review.program import StackRun, run_program
from review.render import render_document, render_text
from review.snapshots import how_to_update, read_snapshot, stale_snapshots, write_snapshots
from review.stacks import StackFile, StackFileError, engine_config, read_stack_file, resolve_stack, stack_names
from settings.loader import ConfigError

BAD_INPUT = 2
SECURITY_DRIFT = 3
ADOPTION_REFUSED = 3

app = typer.Typer(
    help="Review infrastructure changes offline: the program runs under Pulumi mocks, no cluster or backend.",
    no_args_is_help=True,
    add_completion=False,
    # Locals may hold config values; a crash must not print them.
    pretty_exceptions_show_locals=False,
)
# Piped output (CI logs, files) is read at full width rather than rich's 80-column default.
_PIPED_WIDTH = None if sys.stdout.isatty() else 160
out = Console(soft_wrap=True, highlight=False, width=_PIPED_WIDTH)
err = Console(stderr=True, soft_wrap=True, highlight=False)

StackArgument = Annotated[str, typer.Argument(help="A stack name (dev) or the path of a stack file (Pulumi.dev.yaml).")]


@app.command()
def render(
    stack: StackArgument,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")] = None,
) -> None:
    """Print every resource the stack registers as sorted YAML, secrets redacted."""
    with _bad_input_exits():
        stack_file = resolve_stack(stack)
        text = render_text(_run(stack_file), stack_file.name)
    if output is None:
        out.out(text, end="")
    else:
        output.write_text(text)
        err.print(Text(f"wrote the render of {stack_file.name} to {output}"))


@app.command()
def diff(
    stack_a: StackArgument,
    stack_b: Annotated[
        str | None, typer.Argument(help="The stack to compare with; omitted: STACK_A's committed snapshot.")
    ] = None,
) -> None:
    """Show what differs between two stacks, or between a stack and its snapshot. Exit 1 on a difference."""
    with _bad_input_exits():
        stack_file = resolve_stack(stack_a)
        current = render_document(_run(stack_file), stack_file.name)
        if stack_b is None:
            old, new, title = read_snapshot(stack_file.name), current, f"snapshot of {stack_file.name} → {stack_a}"
        else:
            other = resolve_stack(stack_b)
            old, new, title = current, render_document(_run(other), other.name), f"{stack_a} → {stack_b}"
    changes = diff_renders(old, new)
    _print_diff(title, changes)
    raise typer.Exit(1 if changes.has_changes else 0)


@app.command()
def footprint(stack: StackArgument) -> None:
    """Show the CPU and memory requests the stack deploys, per component and in total."""
    with _bad_input_exits():
        stack_file = resolve_stack(stack)
        result = stack_footprint(_run(stack_file))
    out.print(_footprint_table(stack_file.name, result))
    for component in result.unknown:
        err.print(Text(f"unknown footprint: {component.component}: {component.unknown}", style="yellow"))


@app.command()
def images(
    stack: StackArgument,
    charts: Annotated[
        Path | None,
        typer.Option(
            "--charts", help="A directory with one folder per chart, rendered instead of the stack's chart sources."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List every image the stack pulls (registry, repository, tag, digest), for mirroring: its charts
    are rendered offline with `helm template`."""
    with _bad_input_exits():
        stack_file = resolve_stack(stack)
        found = stack_images(_run(stack_file), charts=charts)
    if as_json:
        out.out(json.dumps([image.as_json() for image in found], indent=2))
    else:
        out.print(_images_table(stack_file.name, found))


@app.command()
def snapshot(
    update: Annotated[bool, typer.Option("--update", help="Rewrite the snapshots instead of checking them.")] = False,
) -> None:
    """Check that snapshots/<stack>.yaml matches every stack's render (exit 1 if not), or --update them."""
    with _bad_input_exits():
        renders = {name: render_text(_run(resolve_stack(name)), name) for name in stack_names()}
    if update:
        written = write_snapshots(renders)
        out.print(f"updated: {', '.join(written)}" if written else "snapshots are up to date")
        return
    stale = stale_snapshots(renders)
    if stale:
        err.print(f"stale snapshots: {', '.join(stale)}; {how_to_update()}")
        raise typer.Exit(1)
    out.print(f"snapshots match: {', '.join(renders)}")


@app.command()
def affected() -> None:
    """Print, as a JSON list for a CI matrix, the stacks the changed paths on stdin may affect."""
    out.out(json.dumps(affected_stacks(sys.stdin.read().split(), stack_names())))


@app.command()
def drift(
    stack: Annotated[str, typer.Argument(help="The stack, by name, in the current Pulumi backend.")],
    preview_json: Annotated[
        Path | None,
        typer.Option("--preview-json", help="Read a saved `pulumi preview --refresh --json` instead of running it."),
    ] = None,
) -> None:
    """Report what changed in the cluster outside the stack: runs `pulumi preview --refresh --json
    --expect-no-changes` (the engine, the backend and the cluster's credentials are needed) and lists
    each object and field that differs. Exit 1 on drift, 3 on drift of a security-relevant field."""
    with _bad_input_exits():
        text = _saved_preview(preview_json) if preview_json else _refreshed_preview(stack)
        report = drift_report(parse_preview(text), SECURITY_FIELDS)
    _print_drift(stack, report)
    raise typer.Exit(SECURITY_DRIFT if report.security else 1 if report.objects else 0)


@app.command()
def adopt(
    stack: Annotated[str, typer.Argument(help="The new stack, by name, in the current Pulumi backend.")],
) -> None:
    """Before the first `pulumi up` of a stack on a cluster where the mesh already runs (installed
    with `helm install` or `kubectl`): list the objects the update adopts in place, each declared
    value the cluster holds differently, and the objects it creates. Exit 3 if it would replace or
    delete anything. Needs the engine, the backend and `kubectl` with the cluster's credentials."""
    with _bad_input_exits():
        plan = adoption_plan(parse_preview(_preview(stack)), _live_object)
    _print_adoption(stack, plan)
    raise typer.Exit(ADOPTION_REFUSED if plan.refused else 0)


def _live_object(api_version: str, kind: str, namespace: str, name: str) -> dict | None:
    """The object from the cluster with `kubectl get`, or None if it has none."""
    group, _, version = api_version.rpartition("/")
    resource = f"{kind}.{version}.{group}" if group else kind
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        raise DriftError("kubectl is not on PATH (make engine builds it: tools/engine/build --print-bin-dir)")
    command = [kubectl, "get", resource, name, "--ignore-not-found", "-o", "json"]
    result = subprocess.run(command + (["-n", namespace] if namespace else []), capture_output=True, text=True)
    if result.returncode != 0:
        raise DriftError(f"kubectl get {resource} {name} failed: {result.stderr.strip()[-500:]}")
    return json.loads(result.stdout) if result.stdout.strip() else None


def _print_adoption(stack: str, plan: AdoptionPlan) -> None:
    changed = sum(1 for planned in plan.adopted if planned.differences)
    summary = f"{len(plan.adopted)} object(s) adopted in place ({changed} with declared values that differ), "
    out.print(Text(summary + f"{len(plan.new)} created, {len(plan.refused)} refused", style="bold"))
    for line in plan.lines():
        out.print(Text(line, style="red" if line.startswith("REFUSED") else ""))
    if plan.refused:
        out.print(Text(f"stack {stack} would replace or delete objects: not an adoption", style="bold red"))


def _refreshed_preview(stack: str) -> str:
    """The JSON of a refreshed preview of `stack`; it exits non-zero when it plans changes, which
    is the drift this command reads, so only a missing document is a failure."""
    return _preview(stack, "--refresh", "--expect-no-changes")


def _preview(stack: str, *options: str) -> str:
    """The JSON document of `pulumi preview` of `stack` with `options`."""
    pulumi = shutil.which("pulumi")
    if pulumi is None:
        raise DriftError("pulumi is not on PATH (make engine builds it: tools/engine/build --print-bin-dir)")
    command = [pulumi, "preview", *options, "--json", "--non-interactive", "--stack", stack]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if not result.stdout.strip():
        failure = result.stderr.strip()[-2000:]
        raise DriftError(f"pulumi preview of {stack} failed (exit {result.returncode}): {failure}")
    return result.stdout


def _saved_preview(path: Path) -> str:
    try:
        return path.read_text()
    except (OSError, UnicodeDecodeError) as error:
        raise DriftError(f"{path}: cannot read the saved preview: {error}") from None


def _print_drift(stack: str, report: DriftReport) -> None:
    if not report.objects:
        out.print(f"no drift: stack {stack} matches the cluster")
        return
    found = f"{len(report.objects)} object(s) of stack {stack} differ from the cluster"
    if report.security:
        found += f", {len(report.security)} in a security-relevant field"
    out.print(Text(found, style="bold red" if report.security else "bold yellow"))
    for line in report.lines():
        out.print(Text(line, style="red" if line.startswith("SECURITY ") or line.endswith("[security]") else ""))
    out.print("`pulumi up` of the stack puts every field back; `pulumi refresh` keeps the cluster's values instead.")


def _run(stack_file: StackFile) -> StackRun:
    """The program's run for a stack file; bad stack config becomes `ConfigError`, raised."""
    run = run_program(engine_config(read_stack_file(stack_file.path)), stack=stack_file.name)
    if run.error is not None:
        raise run.error
    return run


@contextmanager
def _bad_input_exits() -> Iterator[None]:
    """Turn bad input into its message on stderr and exit code 2; anything else is a bug and raises."""
    try:
        yield
    except (StackFileError, ConfigError, ImagesError, DriftError) as error:
        err.print(Text(f"error: {error}", style="red"))
        raise typer.Exit(BAD_INPUT) from None


def _print_diff(title: str, changes: RenderDiff) -> None:
    styles = {"+": "green", "-": "red", "~": "yellow"}
    out.print(Text(title, style="bold"))
    for line in changes.lines():
        out.print(Text(line, style=styles.get(line.lstrip()[:1], "")))


def _footprint_table(stack: str, result: Footprint) -> Table:
    table = Table(title=f"Resource requests of stack {stack}")
    table.add_column("component", overflow="fold")
    table.add_column("pods", no_wrap=True)
    for column in ("replicas", "CPU/pod", "MiB/pod", "CPU", "MiB"):
        table.add_column(column, justify="right", no_wrap=True)
    for component in result.components:
        if component.unknown is not None:
            table.add_row(component.component, "unknown footprint", "", "", "", "?", "?", style="yellow")
        for group in component.pods:
            total = group.requests * group.replicas
            table.add_row(
                component.component, group.what, str(group.replicas), *_columns(group.requests), *_columns(total)
            )
    table.add_section()
    label = "total of the known" if result.unknown else "total"
    table.add_row(label, "", "", "", "", *_columns(result.total), style="bold")
    table.caption = "CPU in cores, memory in MiB"
    return table


def _images_table(stack: str, found: list[StackImage]) -> Table:
    table = Table(title=f"Images of stack {stack}")
    for column in ("registry", "repository", "tag", "digest"):
        table.add_column(column, no_wrap=True)
    table.add_column("used by", overflow="fold")
    for image in found:
        reference = image.image
        table.add_row(
            reference.registry,
            reference.repository,
            reference.tag or "",
            reference.digest or "",
            ", ".join(image.used_by),
        )
    table.caption = f"{len(found)} images"
    return table


def _columns(requests: Requests) -> tuple[str, str]:
    return _cores(requests.cpu), _mebibytes(requests.memory)


def _cores(cpu: Decimal) -> str:
    return f"{cpu:.3f}"


def _mebibytes(memory: Decimal) -> str:
    return f"{memory / 2**20:,.0f}"
