"""Runs the real program (`__main__.py`) under Pulumi mocks and records what it registers.

`run_stack("dev")` loads `Pulumi.dev.yaml`, hands its config to the program the way the engine
does (structured values as JSON text, secret keys marked secret), runs the program with a mock
engine and returns every resource it registered: type, name, inputs, parent, dependencies and
options. The tests and the review command line both run the program through here, so they see
the same thing.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import contextvars
import gc
import runpy
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import rpc

# _resolve_callbacks maps the transform tokens of a registration back to the program's functions.
from pulumi.runtime.mocks import MockMonitor, MockResourceArgs, Mocks, _resolve_callbacks
from pulumi.runtime.settings import SETTINGS
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from mesh.certificates import (
    DEFAULT_ROOT_VALIDITY_HOURS,
    ROOT_CERTIFICATE_OUTPUT,
    ROOT_EXPIRY_OUTPUT,
    ROOT_PRIVATE_KEY_OUTPUT,
)
from mesh.objects import SECRET as SECRET_TYPE
from mesh.objects import SERVICE_ACCOUNT_TOKEN
from review.stacks import PROJECT, PROJECT_ROOT, EngineConfig, stack_config
from settings.secrets import REDACTED

PROGRAM = PROJECT_ROOT / "__main__.py"
SECRET = REDACTED
"""What a secret value is shown as wherever the review prints or writes it."""


@dataclass(frozen=True)
class RegisteredResource:
    """One resource as the program registered it with the engine.

    `inputs` holds plain values (secrets unwrapped, for assertions); `redacted_inputs` holds the
    same with every secret value replaced by `SECRET` (for anything a person reads).
    """

    type: str
    name: str
    urn: str
    inputs: dict[str, Any]
    redacted_inputs: dict[str, Any]
    parent: str
    dependencies: tuple[str, ...]
    protect: bool
    retain_on_delete: bool
    ignore_changes: tuple[str, ...]
    transforms: tuple[Callable[..., Any], ...]
    provider: str = ""
    """The explicit provider reference (`<provider urn>::<id>`); empty for the default provider."""

    @property
    def transform_names(self) -> tuple[str, ...]:
        """The transforms as `module.function`, stable from machine to machine."""
        return tuple(f"{transform.__module__}.{transform.__qualname__}" for transform in self.transforms)


@dataclass
class StackRun:
    """What the program registered and exported for one stack, or the error it stopped with."""

    resources: list[RegisteredResource]
    outputs: dict[str, Any] = field(default_factory=dict)
    secret_outputs: frozenset[str] = frozenset()
    stack_transforms: tuple[Callable[..., Any], ...] = ()
    error: BaseException | None = None

    def named(self, name: str) -> RegisteredResource:
        matches = [resource for resource in self.resources if resource.name == name]
        assert len(matches) == 1, f"expected one resource named {name!r}, found {len(matches)}"
        return matches[0]

    def of_type(self, type_: str) -> list[RegisteredResource]:
        return [resource for resource in self.resources if resource.type == type_]

    def by_urn(self, urn: str) -> RegisteredResource:
        return next(resource for resource in self.resources if resource.urn == urn)

    def depends_on(self, dependent: RegisteredResource, dependency: RegisteredResource) -> bool:
        """Whether `dependent` waits for `dependency`, directly or through other resources."""
        pending, seen = list(dependent.dependencies), set()
        while pending:
            urn = pending.pop()
            if urn == dependency.urn:
                return True
            if urn not in seen:
                seen.add(urn)
                # A resource the program reads (a StackReference) is not registered, and depends on nothing here.
                registered = next((resource for resource in self.resources if resource.urn == urn), None)
                pending.extend(registered.dependencies if registered else ())
        return False


def replace_secrets(value: Any, replacement: Callable[[Any], Any]) -> Any:
    """`value` with every wrapped Pulumi secret (at any depth) replaced by `replacement(plain)`."""
    if rpc.is_rpc_secret(value):
        return replacement(replace_secrets(rpc.unwrap_rpc_secret(value), replacement))
    if isinstance(value, dict):
        return {key: replace_secrets(item, replacement) for key, item in value.items()}
    if isinstance(value, list):
        return [replace_secrets(item, replacement) for item in value]
    return value


def _mock_secret(value: str) -> dict[str, str]:
    return {rpc._special_sig_key: rpc._special_secret_sig, "value": value}


def _mock_pem(kind: str, name: str) -> str:
    return f"-----BEGIN {kind}-----\nmock-{name}\n-----END {kind}-----\n"


# Every mock certificate is issued at this one instant, so its expiry follows its `validityPeriodHours`
# and renders do not change from day to day; it lies ahead, so that no mock certificate is ever about
# to expire and a render prints no expiry warning (a test that wants one sets the program's clock).
MOCK_CERTIFICATES_ISSUED = datetime(2100, 1, 1, tzinfo=UTC)


def _mock_certificate(name: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
    expiry = MOCK_CERTIFICATES_ISSUED + timedelta(hours=inputs["validityPeriodHours"])
    return {"certPem": _mock_pem("CERTIFICATE", name), "validityEndTime": expiry.strftime("%Y-%m-%dT%H:%M:%SZ")}


# What the tls provider generates: PEM text, stable per resource; private keys secret, as it marks them.
_TLS_OUTPUTS: dict[str, Callable[[str, Mapping[str, Any]], dict[str, Any]]] = {
    "tls:index/privateKey:PrivateKey": lambda name, _: {
        "privateKeyPem": _mock_secret(_mock_pem("PRIVATE KEY", name)),
        "publicKeyPem": _mock_pem("PUBLIC KEY", name),
    },
    "tls:index/selfSignedCert:SelfSignedCert": _mock_certificate,
    "tls:index/locallySignedCert:LocallySignedCert": _mock_certificate,
    "tls:index/certRequest:CertRequest": lambda name, _: {"certRequestPem": _mock_pem("CERTIFICATE REQUEST", name)},
}


def _mock_trust_stack(_: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """What a StackReference reads: the outputs of a trust stack (`trust/`) named by the reference."""
    stack = inputs["name"]
    root = _mock_certificate(stack, {"validityPeriodHours": DEFAULT_ROOT_VALIDITY_HOURS})
    return {
        "outputs": {
            ROOT_CERTIFICATE_OUTPUT: root["certPem"],
            ROOT_PRIVATE_KEY_OUTPUT: _mock_pem("PRIVATE KEY", stack),
            ROOT_EXPIRY_OUTPUT: root["validityEndTime"],
        },
        "secretOutputNames": [ROOT_PRIVATE_KEY_OUTPUT],
    }


def _token_controller_outputs(name: str) -> dict[str, Any]:
    """What the API server's token controller writes into a ServiceAccount token Secret (base64, as
    `data` is), which the kubernetes provider waits for; secret, as the provider marks `data`."""
    data = {"ca.crt": f"mock-ca-{name}", "namespace": f"mock-namespace-{name}", "token": f"mock-token-{name}"}
    return {"data": _mock_secret({key: base64.b64encode(value.encode()).decode() for key, value in data.items()})}


# What the providers and the engine compute, by resource type.
_COMPUTED_OUTPUTS = {**_TLS_OUTPUTS, "pulumi:pulumi:StackReference": _mock_trust_stack}


class _EchoMocks(Mocks):
    """A mock engine that creates every resource with its inputs as its outputs; a StackReference
    reads the outputs `stack_outputs` gives for its stack, and any other stack as a trust stack."""

    def __init__(self, stack_outputs: Mapping[str, Mapping[str, Any]]) -> None:
        self.stack_outputs = stack_outputs

    def new_resource(self, args: MockResourceArgs) -> tuple[str, dict]:
        outputs = dict(args.inputs)
        if args.typ.startswith("random:"):
            # A generated value, stable per resource and secret, as the random provider keeps it.
            outputs["result"] = _mock_secret(f"mock-{args.name}")
        outputs |= _COMPUTED_OUTPUTS.get(args.typ, lambda *_: {})(args.name, args.inputs)
        if args.typ == SECRET_TYPE and args.inputs.get("type") == SERVICE_ACCOUNT_TOKEN:
            outputs |= _token_controller_outputs(args.name)
        if args.typ == "pulumi:pulumi:StackReference" and args.inputs["name"] in self.stack_outputs:
            outputs["outputs"] = dict(self.stack_outputs[args.inputs["name"]])
        return f"{args.name}-id", outputs

    def call(self, args: Any) -> tuple[dict, None]:
        return {}, None


class _RecordingMonitor(MockMonitor):
    """The mock monitor, also keeping the options the engine would see."""

    def __init__(self, mocks: Mocks) -> None:
        super().__init__(mocks)
        self.registered: list[RegisteredResource] = []

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC servicer method name
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            # The mock keeps secrets wrapped (`{<signature>: <secret>, value: …}`) in the state.
            state = self.resources[response.urn].state
            self.registered.append(
                RegisteredResource(
                    type=request.type,
                    name=request.name,
                    urn=response.urn,
                    inputs=replace_secrets(state, lambda plain: plain),
                    redacted_inputs=replace_secrets(state, lambda _: SECRET),
                    parent=request.parent,
                    dependencies=tuple(request.dependencies),
                    protect=request.protect,
                    retain_on_delete=request.retainOnDelete,
                    ignore_changes=tuple(request.ignoreChanges),
                    transforms=tuple(_resolve_callbacks(request.transforms)),
                    provider=request.provider,
                )
            )
        return response


def run_program(
    config: Mapping[str, str],
    *,
    stack: str = "test",
    program: Path = PROGRAM,
    stack_outputs: Mapping[str, Mapping[str, Any]] | None = None,
) -> StackRun:
    """Run `program` (the project's `__main__.py`) with `config` under mocks, in a fresh Pulumi
    runtime context; the keys of an `EngineConfig`'s `secret_keys` are secret, as the engine marks
    them, and a StackReference to a stack named in `stack_outputs` reads the outputs given there.
    The program's error, if any, is returned in the run, not raised."""
    secret_keys = config.secret_keys if isinstance(config, EngineConfig) else frozenset()
    mocks = _EchoMocks(stack_outputs or {})
    with _no_cyclic_collections():
        return contextvars.Context().run(_run_program, dict(config), secret_keys, stack, program, mocks)


@contextlib.contextmanager
def _no_cyclic_collections() -> Iterator[None]:
    """Keep CPython's cyclic garbage collector off while the program runs.

    A run allocates tens of thousands of objects that live until it ends (resources, outputs,
    futures), and each full collection walks all of them again: with 500 apps, two fifths of
    the run went to collections that freed almost nothing. Reference counting still frees
    everything acyclic; the cycles wait for the first collection after the run.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _run_program(
    config: dict[str, str], secret_keys: frozenset[str], stack: str, program: Path, mocks: _EchoMocks
) -> StackRun:
    monitor = _RecordingMonitor(mocks)
    pulumi.runtime.set_all_config(config, sorted(secret_keys))
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=True, monitor=monitor)
    root = pulumi.runtime.get_root_resource()
    try:
        _sync_await(run_pulumi_func(lambda: runpy.run_path(str(program), run_name="__main__")))
    except Exception as error:  # handed to the caller to assert on or report
        _settle_outstanding_tasks()
        return StackRun(resources=list(monitor.registered), error=error)
    exports = {key: pulumi.Output.from_input(value) for key, value in root.outputs.items()}
    return StackRun(
        resources=monitor.registered,
        outputs={key: _sync_await(output.future()) for key, output in exports.items()},
        secret_outputs=frozenset(key for key, output in exports.items() if _sync_await(output.is_secret())),
        stack_transforms=tuple(monitor.get_registered_transforms()),
    )


def _settle_outstanding_tasks() -> None:
    """Let every output a failed run left behind settle, its error dropped, and forget them: the
    program stops at its first error, and the runtime's set of outstanding outputs, which outlives
    the run, would otherwise fail the next run with the same error."""
    loop = asyncio.get_event_loop()
    pending = list(SETTINGS.outputs)
    SETTINGS.outputs.clear()
    loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))


def run_stack(stack: str, overrides: Mapping[str, Any] | None = None) -> StackRun:
    """Run the program for the real `Pulumi.<stack>.yaml`, optionally with `overrides`.

    Raises the program's error, if any; use `run_program` to inspect a failed run.
    """
    run = run_program(stack_config(stack, overrides), stack=stack)
    if run.error is not None:
        raise run.error
    return run
