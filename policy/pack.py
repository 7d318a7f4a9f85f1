"""The pack's policies: each rule of `policy.checks`, `policy.pod_security` and `policy.exposure`
wired into a CrossGuard policy with its enforcement level and configuration schema.

Configuration comes from the policy pack config (`pulumi preview --policy-pack policy
--policy-pack-config <file>`); every property has a default, applied here too so that a
policy validated outside the CLI behaves the same. The stack's environment, which the prod
rules need, is the stack config `servicemesh:environment`, and the registries images may come
from are `servicemesh:cluster.allowedRegistries`: the engine hands a policy pack the stack's
config as it hands it to the program.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pulumi
from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from mesh.implementations import REGISTRY, RETIRED_LOCATIONS
from policy.checks import (
    SYSTEM_NAMESPACES,
    Resource,
    Violation,
    container_resource_violations,
    disruption_budget_advisories,
    helm_chart_pin_violations,
    image_pin_violations,
    image_registry_violations,
    mesh_bypass_violations,
    mesh_wide_mtls_violations,
    namespace_enrolment_violations,
    plaintext_mode_violations,
    retired_location_violations,
    system_namespace_violations,
)
from policy.exposure import exposure_violations
from policy.pod_security import pod_security_violations, service_account_token_violations
from settings.problems import NAMESPACE

PACK_NAME = "servicemesh-guardrails"
# Every mesh's own namespaces, as its settings default them: control planes and what else a mesh runs
# itself (Istio's ingress gateway, Linkerd's viz extension), each meshed (or not) as its chart decides.
MESH_OWN_NAMESPACES = [namespace for entry in REGISTRY for namespace in entry.policy.own_namespaces]

# Where the project's stacks run the add-ons when not in the mesh's own namespace.
ADDONS_NAMESPACE = "observability"
# The stack config key (under `servicemesh:cluster`) that lists the registries images may come from.
ALLOWED_REGISTRIES_KEY = "allowedRegistries"

_NAMESPACE_LIST = {"type": "array", "items": {"type": "string"}, "uniqueItems": True}

MESH_SCHEMA = PolicyConfigSchema(
    properties={name: spec for entry in REGISTRY for name, spec in entry.policy.policy_config.items()}
)
PEER_AUTHENTICATION_SCHEMA = PolicyConfigSchema(
    properties={
        "allowedNamespaces": {
            **_NAMESPACE_LIST,
            "default": [],
            "description": "Namespaces whose objects may accept plaintext while they migrate: "
            f"{', '.join(entry.policy.plaintext_objects for entry in REGISTRY)}.",
        }
    }
)
ENROLMENT_SCHEMA = PolicyConfigSchema(
    properties={
        "exemptNamespaces": {
            **_NAMESPACE_LIST,
            "default": [*MESH_OWN_NAMESPACES, ADDONS_NAMESPACE],
            "description": "Namespaces whose workloads need not be in the mesh: the mesh's own and the add-ons' "
            f"(servicemesh:observability.namespace; the project's stacks that keep them out of the mesh's "
            f"namespace use '{ADDONS_NAMESPACE}').",
        }
    }
)
PROD_SCHEMA = PolicyConfigSchema(
    properties={
        "prodEnvironments": {
            "type": "array",
            "items": {"type": "string"},
            "default": ["prod"],
            "description": "Values of servicemesh:environment (or stack names, for stacks without it) that are prod.",
        },
    }
)


def _in_words(items: list[str], conjunction: str) -> str:
    """`a`, `a and b`, `a, b, and c`: a list as a sentence reads it."""
    if len(items) < 3:
        return f" {conjunction} ".join(items)
    return f"{', '.join(items[:-1])}, {conjunction} {items[-1]}"


def policy_config(args: ResourceValidationArgs | StackValidationArgs, schema: PolicyConfigSchema) -> dict[str, Any]:
    """The policy's configuration: what the pack config sets, over the schema's defaults."""
    defaults = {key: spec["default"] for key, spec in schema.properties.items() if "default" in spec}
    return {**defaults, **args.get_config()}


def stack_environment() -> str:
    """The environment of the stack under preview: its `servicemesh:environment` config, else its name."""
    return pulumi.Config(NAMESPACE).get("environment") or pulumi.get_stack()


def is_prod(args: ResourceValidationArgs | StackValidationArgs) -> bool:
    """Whether the stack under preview is prod, as the policy's `prodEnvironments` config says."""
    return stack_environment() in policy_config(args, PROD_SCHEMA)["prodEnvironments"]


def allowed_registries() -> list[str]:
    """The registries the stack's images may come from (`servicemesh:cluster.allowedRegistries`); empty: any."""
    cluster = pulumi.Config(NAMESPACE).get_object("cluster") or {}
    return list(cluster.get(ALLOWED_REGISTRIES_KEY) or []) if isinstance(cluster, dict) else []


def stack_resources(args: StackValidationArgs) -> list[Resource]:
    return [Resource(item.resource_type, item.props, item.urn, item.name) for item in args.resources]


def _report(violations: Iterable[str | Violation], report_violation: ReportViolation) -> None:
    for violation in violations:
        if isinstance(violation, Violation):
            report_violation(violation.message, violation.urn)
        else:
            report_violation(violation, None)


def _validate_mesh_wide_mtls(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    config = policy_config(args, MESH_SCHEMA)
    _report(mesh_wide_mtls_violations(stack_resources(args), config=config), report_violation)


def _validate_peer_authentication_modes(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    allowed = policy_config(args, PEER_AUTHENTICATION_SCHEMA)["allowedNamespaces"]
    _report(
        plaintext_mode_violations(args.resource_type, args.props, allowed_namespaces=allowed),
        report_violation,
    )


def _validate_mesh_bypasses(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    config = policy_config(args, MESH_SCHEMA)
    _report(mesh_bypass_violations(stack_resources(args), config=config), report_violation)


def _validate_helm_charts(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    _report(helm_chart_pin_violations(args.resource_type, args.props), report_violation)


def _validate_artifact_locations(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    _report(retired_location_violations(args.resource_type, args.props), report_violation)


def _validate_images(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    _report(image_pin_violations(args.resource_type, args.props, prod=is_prod(args)), report_violation)


def _validate_image_registries(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    violations = image_registry_violations(args.resource_type, args.props, allowed_registries=allowed_registries())
    _report(violations, report_violation)


def _validate_container_resources(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    _report(container_resource_violations(args.resource_type, args.props), report_violation)


def _validate_pod_security(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    _report(pod_security_violations(args.resource_type, args.props), report_violation)


def _validate_service_account_tokens(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    _report(service_account_token_violations(stack_resources(args)), report_violation)


def _validate_namespace_enrolment(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    exempt = policy_config(args, ENROLMENT_SCHEMA)["exemptNamespaces"]
    _report(namespace_enrolment_violations(stack_resources(args), exempt_namespaces=exempt), report_violation)


def _validate_exposure(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    if is_prod(args):
        _report(exposure_violations(stack_resources(args)), report_violation)


def _validate_system_namespaces(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    _report(system_namespace_violations(stack_resources(args)), report_violation)


def _validate_disruption_budgets(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    _report(disruption_budget_advisories(stack_resources(args)), report_violation)


POLICIES: list[Policy] = [
    StackValidationPolicy(
        name="mesh-mtls-strict",
        description="mTLS is required mesh-wide, in the installed mesh's terms: "
        f"{'; '.join(entry.policy.mtls_rule for entry in REGISTRY)}.",
        validate=_validate_mesh_wide_mtls,
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=MESH_SCHEMA,
    ),
    ResourceValidationPolicy(
        name="peer-authentication-no-plaintext",
        description="Outside the allowed namespaces, "
        f"{_in_words([entry.policy.plaintext_rule for entry in REGISTRY], 'and')}.",
        validate=_validate_peer_authentication_modes,
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=PEER_AUTHENTICATION_SCHEMA,
    ),
    StackValidationPolicy(
        name="no-mesh-bypass",
        description="Nothing takes a workload of an enrolled namespace out of the mesh's mTLS or authorization: "
        f"{'; '.join(entry.policy.bypass_rule for entry in REGISTRY)}.",
        validate=_validate_mesh_bypasses,
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=MESH_SCHEMA,
    ),
    ResourceValidationPolicy(
        name="helm-chart-pinned",
        description="Every Helm chart pins an exact version and names its source, over https:// or oci:// and "
        "without credentials in the URL.",
        validate=_validate_helm_charts,
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
    ResourceValidationPolicy(
        name="no-retired-artifact-location",
        description="No chart or image comes from a retired location "
        f"({', '.join(retired.location for retired in RETIRED_LOCATIONS)}, all retired in December 2026), wherever "
        "a resource names it.",
        validate=_validate_artifact_locations,
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
    ResourceValidationPolicy(
        name="container-image-pinned",
        description="No container image is untagged or has a moving tag (latest, stable, main, master, edge, in "
        "any case); in prod every image names an exact version or a digest.",
        validate=_validate_images,
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=PROD_SCHEMA,
    ),
    ResourceValidationPolicy(
        name="container-image-registry-allowed",
        description=f"With servicemesh:cluster.{ALLOWED_REGISTRIES_KEY} set, every container image comes from one "
        "of those registries.",
        validate=_validate_image_registries,
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
    ResourceValidationPolicy(
        name="container-resources-set",
        description="Every container requests CPU and memory and has a memory limit.",
        validate=_validate_container_resources,
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
    ResourceValidationPolicy(
        name="pod-security",
        description="No pod template runs a container privileged, with privilege escalation, added capabilities, "
        "as root, without a seccomp profile, or with the node's network, processes, IPC, files or ports, but "
        "what a mesh names for one of its own objects with its reason.",
        validate=_validate_pod_security,
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
    StackValidationPolicy(
        name="service-account-token-only-where-needed",
        description="A pod mounts an API token only when its ServiceAccount is bound to a role in the stack or "
        "its mesh logs it in with the token.",
        validate=_validate_service_account_tokens,
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
    StackValidationPolicy(
        name="workload-namespace-in-mesh",
        description="Every namespace that holds workloads is enrolled in the mesh "
        f"({_in_words([entry.policy.enrolment_mark for entry in REGISTRY], 'or')}), except exempt namespaces.",
        validate=_validate_namespace_enrolment,
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=ENROLMENT_SCHEMA,
    ),
    StackValidationPolicy(
        name="no-external-exposure-in-prod",
        description="In prod, nothing is reachable from outside the cluster but the mesh's ingress gateway: no "
        "other LoadBalancer, NodePort or externalIPs Service, Ingress, Gateway or route to one, and no chart "
        "values that would create them.",
        validate=_validate_exposure,
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=PROD_SCHEMA,
    ),
    StackValidationPolicy(
        name="nothing-in-system-namespaces",
        description=f"The stack creates nothing in {_in_words(list(SYSTEM_NAMESPACES), 'or')}.",
        validate=_validate_system_namespaces,
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
    StackValidationPolicy(
        name="replicated-workload-has-disruption-budget",
        description="Every Deployment or StatefulSet of more than one replica has a PodDisruptionBudget.",
        validate=_validate_disruption_budgets,
        enforcement_level=EnforcementLevel.ADVISORY,
    ),
]
