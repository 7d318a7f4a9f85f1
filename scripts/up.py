"""`make up`, `make preview`, `make diff` and `make down`: a stack (`STACK`, dev by default) on the
best cluster this machine has, with the project's own engine when `pulumi` is not installed.

The target, in this order (a stack then stays on the one it was created on, until `make down`):

1. the current kube context, if it answers;
2. a kind cluster `servicemesh`, if `kind` and a container engine (docker or podman) work;
3. the embedded local control plane (`scripts/local_cluster.py`, kept in `.local/cluster/`): it
   stores and serves every object but runs no pods, so the run sets `cluster.apiServerOnly` (its
   stacks wait for nothing to become ready). Never for prod.

A run never edits a stack file: what a target changes (`cluster.apiServerOnly`, chart sources) goes
into a stack config file of its own, `.local/stacks/Pulumi.<stack>.yaml`, which every pulumi
command here reads (`--config-file`). The policy pack runs on every preview and update.

Environment:
  STACK=<name>              the stack file Pulumi.<name>.yaml (default dev)
  YES=1                     apply (or destroy) without asking; so does a run without a terminal
  CHARTS=<dir>              take every chart from the published charts in <dir>, one folder per
                            chart (for a machine that cannot reach the chart repositories)
  GATEWAY_API_CRDS=<file>   with CHARTS, ambient's Gateway API CRDs from this release manifest
  KEEP_PROTECTED=1          down: destroy everything but the protected resources, and keep those
  PULUMI_CONFIG_PASSPHRASE, PULUMI_CONFIG_PASSPHRASE_FILE   the stack's secrets passphrase;
                            without one, stacks other than prod use .local/passphrase (generated
                            once per checkout); prod refuses to run without one
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from review.outputs import output_descriptions
from review.stacks import StackFileError, read_stack_file, resolve_stack, stack_file
from scripts import engine, local_cluster
from scripts.run_config import PublishedCharts, run_config, target_overrides, write_stack_config
from settings.problems import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LOCAL = PROJECT_ROOT / ".local"
STACKS = LOCAL / "stacks"
CLUSTER = LOCAL / "cluster"
PASSPHRASE = LOCAL / "passphrase"
KIND_CLUSTER = "servicemesh"
POLICY_PACK = "policy"
PROD = "prod"
# What the embedded control plane is, said once whenever a run uses it.
EMBEDDED_NOTE = (
    "the embedded control plane stores and serves every object but runs no pods, so readiness "
    "waits are skipped (cluster.apiServerOnly=true for this run only, not in the stack file)"
)
PROBE_TIMEOUT = 20
CRD_TYPE = "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition"
REACH_COMMAND = "kubectl "
FILE_BACKEND = "file://"


class MakeError(Exception):
    """Why a command stopped; the message is what the operator reads."""


def say(text: str) -> None:
    print(f"[make] {text}", flush=True)


def is_set(variable: str) -> bool:
    """Whether a yes/no environment variable says yes (`1`, `true`, `yes`)."""
    return os.environ.get(variable, "").strip().lower() in {"1", "true", "yes"}


def relative(path: Path) -> str:
    return str(path.relative_to(PROJECT_ROOT)) if path.is_relative_to(PROJECT_ROOT) else str(path)


# ---------------------------------------------------------------- the stack and its secrets


def is_prod(stack: str) -> bool:
    """A prod stack, by its environment or, whatever the file says, by its name."""
    environment = read_stack_file(stack_file(stack)).get("servicemesh:environment")
    return environment == PROD or stack == PROD or stack.startswith(f"{PROD}-")


def passphrase_env(stack: str, *, prod: bool) -> dict[str, str]:
    """The passphrase settings for pulumi: the operator's, or this checkout's generated one.

    Every stack holds generated secrets (Grafana's admin password, Kiali's signing key, ...), so an
    empty passphrase would store them encrypted with no secret at all."""
    given = os.environ.get("PULUMI_CONFIG_PASSPHRASE", "")
    given_file = os.environ.get("PULUMI_CONFIG_PASSPHRASE_FILE", "")
    if given or given_file:
        if given_file and not given and not _non_empty(Path(given_file)):
            raise MakeError(f"PULUMI_CONFIG_PASSPHRASE_FILE={given_file} is missing or empty")
        return {}
    if prod:
        raise MakeError(
            f"stack {stack} is prod: it needs a passphrase of its own for its secrets. Set "
            "PULUMI_CONFIG_PASSPHRASE, or PULUMI_CONFIG_PASSPHRASE_FILE to a file holding it "
            "(the one your team keeps for this stack); an empty passphrase is refused"
        )
    if not _non_empty(PASSPHRASE):
        PASSPHRASE.parent.mkdir(parents=True, exist_ok=True)
        PASSPHRASE.touch(mode=0o600)
        PASSPHRASE.chmod(0o600)
        PASSPHRASE.write_text(secrets.token_urlsafe(32) + "\n")
    say(
        f"secrets: encrypted with this checkout's generated passphrase in {relative(PASSPHRASE)} (git-ignored; "
        "set PULUMI_CONFIG_PASSPHRASE to use your own)"
    )
    return {"PULUMI_CONFIG_PASSPHRASE_FILE": str(PASSPHRASE)}


def _non_empty(path: Path) -> bool:
    return path.is_file() and bool(path.read_text().strip())


# ---------------------------------------------------------------- the engine


@dataclass(frozen=True, kw_only=True)
class Pulumi:
    """The pulumi CLI a run uses, and what its environment adds."""

    binary: str
    env: Mapping[str, str]
    description: str


def find_pulumi() -> Pulumi:
    installed = shutil.which("pulumi")
    if installed:
        return Pulumi(binary=installed, env={}, description=f"pulumi: {installed}")
    binaries = engine.ensure(engine.PULUMI)
    return Pulumi(
        binary=str(binaries / "pulumi"),
        # Providers and the language host are found on PATH; nothing is downloaded.
        env={
            "PATH": f"{binaries}{os.pathsep}{os.environ['PATH']}",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        },
        description=f"pulumi: not on PATH, so the project's engine (tools/engine: {binaries})",
    )


def kubectl() -> str:
    """kubectl from PATH, or the engine's."""
    return shutil.which("kubectl") or str(engine.ensure(("kubectl",)) / "kubectl")


# ---------------------------------------------------------------- the target

TargetKind = Literal["context", "kind", "embedded"]


@dataclass(frozen=True, kw_only=True)
class Target:
    kind: TargetKind
    context: str | None = None
    why: str = ""

    def describe(self) -> str:
        if self.kind == "embedded":
            return f"the embedded local control plane ({relative(CLUSTER)})"
        if self.kind == "kind":
            return f"the kind cluster {KIND_CLUSTER} (context {self.context})"
        return f"the current kube context {self.context}"


def record_path(stack: str) -> Path:
    return STACKS / f"{stack}.target.json"


def read_record(stack: str) -> dict[str, str | None]:
    """Where the stack runs and where its charts come from, as its first run here chose."""
    path = record_path(stack)
    return json.loads(path.read_text()) if path.is_file() else {}


def recorded_target(stack: str) -> Target | None:
    record = read_record(stack)
    if "target" not in record:
        return None
    return Target(kind=record["target"], context=record.get("context"), why="where the stack was created")


def stacks_on(target: Target) -> list[str]:
    """The stacks of this checkout on `target`, as their records say."""
    stacks = (path.name.removesuffix(".target.json") for path in STACKS.glob("*.target.json"))
    return sorted(
        stack
        for stack in stacks
        if (recorded := recorded_target(stack)) and (recorded.kind, recorded.context) == (target.kind, target.context)
    )


def current_context() -> str | None:
    """The kubeconfig's current context (KUBECONFIG or ~/.kube/config), if it names one."""
    result = subprocess.run([kubectl(), "config", "current-context"], capture_output=True, text=True)
    if result.returncode != 0:
        return None
    return result.stdout.strip() or None


def context_answers(context: str) -> tuple[bool, str]:
    try:
        result = subprocess.run(
            [kubectl(), "--context", context, f"--request-timeout={PROBE_TIMEOUT}s", "version", "-o", "json"],
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT + 5,
        )
    except subprocess.TimeoutExpired:
        return False, "no answer"
    answer = (result.stderr.strip().splitlines() or ["no answer"])[-1]
    return result.returncode == 0 and "serverVersion" in result.stdout, answer


def container_engine() -> str | None:
    """docker or podman, whichever answers (kind runs its nodes there)."""
    for candidate in ("docker", "podman"):
        if shutil.which(candidate) is None:
            continue
        try:
            if subprocess.run([candidate, "info"], capture_output=True, timeout=PROBE_TIMEOUT).returncode == 0:
                return candidate
        except subprocess.TimeoutExpired:
            continue
    return None


def has_kubeconfig() -> bool:
    paths = os.environ.get("KUBECONFIG", "").split(os.pathsep) if os.environ.get("KUBECONFIG") else []
    return any(Path(path).is_file() for path in paths or [str(Path.home() / ".kube" / "config")])


def select_target() -> Target:
    """The best target there is, and why the better ones are not."""
    passed: list[str] = []
    context = current_context() if has_kubeconfig() or shutil.which("kubectl") else None
    if context is None:
        passed.append("no current kube context")
    else:
        answers, answer = context_answers(context)
        if answers:
            return Target(kind="context", context=context, why="it answers")
        passed.append(f"the current kube context {context} does not answer ({answer})")
    if shutil.which("kind") is None:
        passed.append("kind is not on PATH")
    elif (engine_name := container_engine()) is None:
        passed.append("kind is installed, but neither docker nor podman answers")
    else:
        return Target(kind="kind", context=f"kind-{KIND_CLUSTER}", why=f"{'; '.join(passed)}; kind on {engine_name}")
    return Target(kind="embedded", why="; ".join(passed))


def activate(target: Target, *, recorded: bool) -> None:
    """Bring the target up (a new kind cluster, the embedded control plane) and check that it answers."""
    if target.kind == "embedded":
        binaries = engine.ensure((*local_cluster.CONTROL_PLANE, "kubectl"))
        started = local_cluster.start(CLUSTER, bin_dir=binaries)
        state = "already running" if started.already_running else "started"
        say(f"embedded control plane {state} at {started.cluster.server}")
        say(EMBEDDED_NOTE)
        return
    if target.kind == "kind" and not recorded:
        make_kind_cluster()
    current = current_context()
    if current != target.context:
        raise MakeError(
            f"this stack was created on kube context {target.context}, but the current context is {current}: "
            f"switch back (kubectl config use-context {target.context}) or `make down` the stack first"
        )
    answers, answer = context_answers(target.context)
    if not answers:
        raise MakeError(f"kube context {target.context} does not answer: {answer}")


def make_kind_cluster() -> None:
    """The kind cluster, created if missing, as the current kube context."""
    kind_env = {**os.environ, **({"KIND_EXPERIMENTAL_PROVIDER": "podman"} if container_engine() == "podman" else {})}
    clusters = subprocess.run(["kind", "get", "clusters"], capture_output=True, text=True, env=kind_env).stdout.split()
    if KIND_CLUSTER in clusters:
        subprocess.run(["kind", "export", "kubeconfig", "--name", KIND_CLUSTER], check=True, env=kind_env)
        return
    say(f"creating the kind cluster {KIND_CLUSTER} (kind delete cluster --name {KIND_CLUSTER} removes it)")
    subprocess.run(["kind", "create", "cluster", "--name", KIND_CLUSTER, "--wait", "120s"], check=True, env=kind_env)


# ---------------------------------------------------------------- a prepared stack


@dataclass(frozen=True, kw_only=True)
class Session:
    """A stack, its secrets and the pulumi CLI that runs it, before any cluster is touched."""

    stack: str
    prod: bool
    env: Mapping[str, str]
    pulumi: Pulumi
    interactive: bool

    def pulumi_output(self, *args: str, cwd: Path = PROJECT_ROOT) -> str:
        result = subprocess.run(
            [self.pulumi.binary, *args, "--non-interactive"], cwd=cwd, env=self.env, capture_output=True, text=True
        )
        if result.returncode != 0:
            raise MakeError(f"pulumi {' '.join(args)} failed (exit {result.returncode}):\n{result.stderr.strip()}")
        return result.stdout

    def exists(self) -> bool:
        listed = json.loads(self.pulumi_output("stack", "ls", "--json") or "[]")
        return any(entry["name"].rsplit("/", 1)[-1] == self.stack for entry in listed)


def open_session(stack: str) -> Session:
    try:
        resolve_stack(stack)
        prod = is_prod(stack)
    except StackFileError as error:
        raise MakeError(str(error)) from None
    # An empty passphrase variable is no passphrase (see passphrase_env), and would shadow the file.
    env = {key: value for key, value in os.environ.items() if key != "PULUMI_CONFIG_PASSPHRASE" or value}
    env |= passphrase_env(stack, prod=prod)
    pulumi = find_pulumi()
    say(pulumi.description)
    env |= pulumi.env
    backend = env.get("PULUMI_BACKEND_URL", "")
    if backend.startswith(FILE_BACKEND):
        Path(backend.removeprefix(FILE_BACKEND)).mkdir(parents=True, exist_ok=True)
    interactive = sys.stdin.isatty() and sys.stdout.isatty() and not is_set("YES")
    return Session(stack=stack, prod=prod, env=env, pulumi=pulumi, interactive=interactive)


@dataclass(frozen=True, kw_only=True)
class Run:
    """A stack on its target, with its run config: ready for pulumi commands."""

    session: Session
    target: Target
    env: Mapping[str, str]
    config_file: Path

    @property
    def stack(self) -> str:
        return self.session.stack

    def pulumi(self, *args: str, config: bool = True) -> None:
        """Run `pulumi <args>` on the stack where the operator sees it (and can answer it)."""
        command = [
            *args,
            "--stack",
            self.stack,
            *(["--config-file", relative(self.config_file)] if config else []),
            *([] if self.session.interactive else ["--non-interactive"]),
        ]
        kubeconfig = f"KUBECONFIG={relative(Path(self.env['KUBECONFIG']))} " if self.target.kind == "embedded" else ""
        print(f"$ {kubeconfig}pulumi {' '.join(command)}", flush=True)
        result = subprocess.run([self.session.pulumi.binary, *command], cwd=PROJECT_ROOT, env=self.env)
        if result.returncode != 0:
            raise MakeError(f"pulumi {args[0]} failed (exit {result.returncode})")

    def output(self, *args: str) -> str:
        return self.session.pulumi_output(*args, "--stack", self.stack)


def on_target(session: Session, *, reach: bool = True) -> Run:
    """The session's stack on its target (started or created when `reach`), with its run config
    written and the stack created in the backend if it is not there yet."""
    stack = session.stack
    recorded = recorded_target(stack)
    target = recorded or select_target()
    if target.kind == "embedded" and session.prod:
        raise MakeError(
            f"stack {stack} is prod, and the only target here is the embedded control plane ({target.why}). "
            "prod never runs there: it runs no pods, so every readiness wait would be skipped. "
            "Point kubectl at a real cluster (or install kind and a container engine) and run again"
        )
    say(f"target: {target.describe()} ({target.why})")
    others = [other for other in stacks_on(target) if other != stack]
    if recorded is None and others:
        raise MakeError(
            f"{target.describe()} already holds stack {', '.join(others)}: the stacks of this project share "
            f"namespaces and objects (the mesh's, the add-ons', the sample app's), so a cluster holds one of them. "
            f"`STACK={others[0]} make down` first, or point kubectl at another cluster"
        )
    env = dict(session.env)
    if target.kind == "embedded":
        env["KUBECONFIG"] = str(CLUSTER / local_cluster.KUBECONFIG)
    if reach:
        activate(target, recorded=recorded is not None)
    charts = chosen_charts(read_record(stack))
    if charts is not None:
        say(
            f"charts: from {charts.directory} (CHARTS, kept for this stack; CHARTS= takes them from their repositories)"
        )
    try:
        overrides = target_overrides(stack, api_server_only=target.kind == "embedded", charts=charts)
    except ConfigError as error:
        raise MakeError(f"Pulumi.{stack}.yaml:\n{error}") from None
    STACKS.mkdir(parents=True, exist_ok=True)
    config_file = STACKS / f"Pulumi.{stack}.yaml"
    write_stack_config(config_file, run_config(stack, overrides), made_from=stack_file(stack))
    # `stack init` writes the secrets salt into the stack config file beside the project file it
    # finds: from .local/stacks/ that is the run config, not the project's stack file. The project
    # file is copied on every run, so that its settings (its provider config) reach every run.
    shutil.copy2(PROJECT_ROOT / "Pulumi.yaml", STACKS / "Pulumi.yaml")
    if not session.exists():
        session.pulumi_output("stack", "init", stack, cwd=STACKS)
    record = {
        "target": target.kind,
        "context": target.context,
        "charts": str(charts.directory) if charts else None,
        "gatewayApiCrds": str(charts.gateway_api_crds) if charts and charts.gateway_api_crds else None,
    }
    record_path(stack).write_text(json.dumps(record, indent=2) + "\n")
    return Run(session=session, target=target, env=env, config_file=config_file)


def chosen_charts(record: Mapping[str, str | None]) -> PublishedCharts | None:
    """The published charts on disk the stack takes its charts from: CHARTS (and GATEWAY_API_CRDS)
    when set, even to nothing, else what the stack's first run here was given."""
    directory = os.environ.get("CHARTS", record.get("charts"))
    manifest = os.environ.get("GATEWAY_API_CRDS", record.get("gatewayApiCrds"))
    if not directory:
        return None
    charts = PublishedCharts(
        directory=Path(directory).resolve(), gateway_api_crds=Path(manifest).resolve() if manifest else None
    )
    if not charts.directory.is_dir():
        raise MakeError(f"CHARTS={directory}: no such folder")
    if charts.gateway_api_crds is not None and not charts.gateway_api_crds.is_file():
        raise MakeError(f"GATEWAY_API_CRDS={manifest}: no such file")
    return charts


# ---------------------------------------------------------------- up, preview, diff


def up(stack: str) -> None:
    run = on_target(open_session(stack))
    # The table below says what the outputs are; `pulumi stack output` shows all of them.
    asks = [] if run.session.interactive else ["--yes"]
    run.pulumi("up", "--policy-pack", POLICY_PACK, "--suppress-outputs", *asks)
    print_outputs(run)


def preview(stack: str, *, diff: bool) -> None:
    run = on_target(open_session(stack))
    run.pulumi("preview", "--policy-pack", POLICY_PACK, *(["--diff"] if diff else []))


# ---------------------------------------------------------------- outputs


def print_outputs(run: Run) -> None:
    """The stack outputs as a short table (what each says, from the program's own descriptions),
    then the commands that reach what was made."""
    outputs = json.loads(run.output("stack", "output", "--json"))
    descriptions = output_descriptions()
    names = [name for name in descriptions if name in outputs] + [name for name in outputs if name not in descriptions]
    print(f"\nStack {run.stack} on {run.target.describe()} (all of it: pulumi stack output --stack {run.stack}):")
    width = max(map(len, names), default=0)
    columns = shutil.get_terminal_size((TABLE_WIDTH, 24)).columns
    for name in names:
        value = outputs[name]
        shown = summary(value)
        meaning = descriptions.get(name, "").replace("`", "")
        if SECRET in json.dumps(value):
            meaning = f"pulumi stack output {name} --show-secrets: {meaning}"
        print(clip(f"  {name:<{width}}  {shown:<{SUMMARY_WIDTH}}  {meaning}".rstrip(), columns))
    reach = list(commands(outputs))
    if reach:
        print("\nHow to reach it:")
        if run.target.kind == "embedded":
            print("  (no pod runs on the embedded control plane, so these answer only on a cluster with nodes)")
            print(f"  export KUBECONFIG={run.env['KUBECONFIG']}")
        label_width = max(len(label) for label, _ in reach)
        for label, command in reach:
            print(f"  {label:<{label_width}}  {command}")


SUMMARY_WIDTH = 40
TABLE_WIDTH = 120
SECRET = "[secret]"


def clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def summary(value: Any) -> str:
    """A value in one short line: lists joined, mappings by their keys, commands left to the
    "How to reach it" list."""
    if isinstance(value, list):
        text = ", ".join(summary(item) for item in value)
    elif isinstance(value, dict):
        plain = {key: item for key, item in value.items() if not _is_command(item) and not isinstance(item, dict)}
        text = ", ".join(f"{key} {summary(item)}" for key, item in plain.items()) if plain else ", ".join(value)
    else:
        text = "-" if value is None else str(value)
    return clip(text, SUMMARY_WIDTH)


def _is_command(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(REACH_COMMAND)


def commands(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every kubectl command among the outputs, by where it is, with the URL beside it if any."""
    if isinstance(value, dict):
        url = value.get("url")
        for key, item in value.items():
            if _is_command(item):
                yield path or key, item + (f"  # then {url}" if isinstance(url, str) and "# then" not in item else "")
            else:
                yield from commands(item, f"{path}.{key}" if path else key)


# ---------------------------------------------------------------- down


def protected_resources(run: Run) -> list[tuple[str, str]]:
    """(type, name) of every resource of the stack that pulumi may not delete."""
    exported = json.loads(run.output("stack", "export"))
    return [
        (resource["type"], resource["urn"].rsplit("::", 1)[-1])
        for resource in exported.get("deployment", {}).get("resources", [])
        if resource.get("protect")
    ]


def explain_protected(stack: str, protected: list[tuple[str, str]]) -> str:
    crds = sum(kind == CRD_TYPE for kind, _ in protected)
    lines = [
        f"stack {stack} holds {len(protected)} protected resources, which `pulumi destroy` refuses to delete:",
        *(f"    {kind}  {name}" for kind, name in protected[:8]),
        *([f"    … and {len(protected) - 8} more"] if len(protected) > 8 else []),
        "  They are protected on purpose by the stack (mesh.protectCrds, which prod requires"
        + (
            f": deleting one of these {crds} CRDs deletes every resource of its kind in the cluster, "
            "also those others made; see `mesh.protectCrds` in docs/configuration.md)."
            if crds
            else ")."
        ),
        "  KEEP_PROTECTED=1 make down   destroys everything else and keeps them (and the stack, which holds them);",
        f"  to delete them too, once nothing uses them: pulumi state unprotect --all --stack {stack}, then make down.",
    ]
    return "\n".join(lines)


def down(stack: str) -> None:
    session = open_session(stack)
    if not session.exists():
        say(f"stack {stack} does not exist: nothing to destroy")
        forget(stack)
        stop_embedded_if_unused()
        return
    recorded = recorded_target(stack)
    if recorded is not None and recorded.kind == "embedded":
        # The control plane holds this stack alone (see on_target), and it goes with all its data,
        # so the objects go too: deleting them one by one first (and waiting for Helm's uninstall
        # hooks, which no pod runs) would change nothing, protected or not.
        run = on_target(session, reach=False)
        say(f"stack {stack} goes with the embedded control plane's data")
        run.pulumi("stack", "rm", "--force", "--yes", "--preserve-config", config=False)
        forget(stack)
        stop_embedded_if_unused()
        return
    run = on_target(session)
    keep = is_set("KEEP_PROTECTED")
    protected = protected_resources(run)
    if protected and not keep:
        raise MakeError(explain_protected(stack, protected))
    run.pulumi("destroy", *([] if session.interactive else ["--yes"]), *(["--exclude-protected"] if keep else []))
    if protected:
        say(f"kept {len(protected)} protected resources; stack {stack} stays, holding them")
        return
    run.pulumi("stack", "rm", "--yes", "--preserve-config", config=False)
    forget(stack)
    if run.target.kind == "kind":
        say(f"the kind cluster stays; kind delete cluster --name {KIND_CLUSTER} removes it")
    stop_embedded_if_unused()


def forget(stack: str) -> None:
    for path in (record_path(stack), STACKS / f"Pulumi.{stack}.yaml"):
        path.unlink(missing_ok=True)


def stop_embedded_if_unused() -> None:
    if CLUSTER.exists() and not stacks_on(Target(kind="embedded")):
        stopped = local_cluster.stop(CLUSTER)
        processes = ", ".join(stopped) or "nothing (not running)"
        say(f"embedded control plane: stopped {processes}; removed {relative(CLUSTER)}")


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in {"up", "preview", "diff", "down"}:
        print(__doc__, file=sys.stderr)
        return 2
    stack = os.environ.get("STACK") or "dev"
    try:
        if argv[0] == "up":
            up(stack)
        elif argv[0] == "down":
            down(stack)
        else:
            preview(stack, diff=argv[0] == "diff")
    except (MakeError, engine.EngineError, local_cluster.ClusterError) as error:
        say(f"error: {error}")
        return 1
    except subprocess.CalledProcessError as error:
        say(f"error: {' '.join(map(str, error.cmd))} failed (exit {error.returncode})")
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
