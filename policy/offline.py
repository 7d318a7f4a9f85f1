"""Runs the pack's policies over a stack's resources without the Pulumi CLI, as the engine would.

Each resource goes to every resource policy and all of them to every stack policy, with props
wrapped the way the policy SDK wraps them, the pack's policy config, and the stack's config
visible to the policies (as the engine passes it to a policy pack). The tests use it on the
resources the program registers under mocks.
"""

from __future__ import annotations

import contextvars
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import unknown_checking_proxy

from policy.checks import Resource
from policy.pack import POLICIES


@dataclass(frozen=True)
class Finding:
    """One violation a policy reported: which policy, how binding, what, and about which resource."""

    policy: str
    enforcement_level: EnforcementLevel
    message: str
    urn: str | None

    @property
    def mandatory(self) -> bool:
        return self.enforcement_level == EnforcementLevel.MANDATORY


def evaluate(
    resources: Sequence[Resource],
    *,
    stack_config: Mapping[str, str],
    pack_config: Mapping[str, Mapping[str, Any]] | None = None,
    policies: Sequence[Policy] = POLICIES,
) -> list[Finding]:
    """Every violation `policies` report for `resources`, in a stack configured with `stack_config`.

    `pack_config` maps a policy name to its config, like a `--policy-pack-config` file.
    """
    return contextvars.Context().run(_evaluate, resources, dict(stack_config), dict(pack_config or {}), policies)


def _evaluate(
    resources: Sequence[Resource],
    stack_config: dict[str, str],
    pack_config: dict[str, Mapping[str, Any]],
    policies: Sequence[Policy],
) -> list[Finding]:
    pulumi.runtime.set_all_config(stack_config)
    findings: list[Finding] = []
    for policy in policies:
        config = pack_config.get(policy.name)
        if isinstance(policy, ResourceValidationPolicy):
            for resource in resources:
                args = ResourceValidationArgs(
                    resource.type, _as_policy_props(resource), resource.urn, resource.name, _options(), None, config
                )
                # The engine reports a resource policy's violations against the resource it validated.
                policy.validate(args, _collector(findings, policy, default_urn=resource.urn))
        elif isinstance(policy, StackValidationPolicy):
            args = StackValidationArgs([_policy_resource(resource) for resource in resources], config)
            policy.validate(args, _collector(findings, policy, default_urn=None))
    return findings


def _collector(findings: list[Finding], policy: Policy, *, default_urn: str | None) -> ReportViolation:
    level = policy.enforcement_level or EnforcementLevel.ADVISORY

    def report_violation(message: str, urn: str | None = None) -> None:
        findings.append(Finding(policy.name, level, message, urn or default_urn))

    return report_violation


def _as_policy_props(resource: Resource) -> Mapping[str, Any]:
    """The props as the policy SDK hands them to a policy: read-only mappings and sequences."""
    return unknown_checking_proxy(dict(resource.props))


def _policy_resource(resource: Resource) -> PolicyResource:
    return PolicyResource(
        resource.type,
        _as_policy_props(resource),
        resource.urn,
        resource.name,
        _options(),
        None,
        None,
        [],
        {},
    )


def _options() -> PolicyResourceOptions:
    return PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)
