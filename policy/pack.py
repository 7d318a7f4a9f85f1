"""The pack's policies: each rule of `policy.checks` wired into a CrossGuard policy with its
enforcement level and configuration schema.

Configuration comes from the policy pack config (`pulumi preview --policy-pack policy
--policy-pack-config <file>`); every property has a default, applied here too so that a
policy validated outside the CLI behaves the same. The stack's environment, which the
dashboard policy needs, is the stack config `servicemesh:environment`: the engine hands a
policy pack the stack's config as it hands it to the program.
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

from mesh.implementations import REGISTRY
from policy.checks import (
    Resource,
    Violation,
    container_resource_violations,
    dashboard_exposure_violations,
    disruption_budget_advisories,
    helm_chart_pin_violations,
    image_pin_violations,
    mesh_wide_mtls_violations,
    namespace_enrolment_violations,
    plaintext_mode_violations,
    retired_location_violations,
)
from settings.artifacts import RETIRED_LOCATIONS
from settings.problems import NAMESPACE

PACK_NAME = "servicemesh-guardrails"
# Every mesh's own namespaces, as its settings default them: control planes and what else a mesh runs
# itself (Istio's ingress gateway, Linkerd's viz extension), each meshed (or not) as its chart decides.
MESH_OWN_NAMESPACES = [namespace for entry in REGISTRY for namespace in entry.policy.own_namespaces]

# Where the project's stacks run the add-ons when not in the mesh's own namespace.
ADDONS_NAMESPACE = "observability"

_NAMESPACE_LIST = {"type": "array", "items": {"type": "string"}, "uniqueItems": True}

MTLS_SCHEMA = PolicyConfigSchema(
    properties={name: spec for entry in REGISTRY for name, spec in entry.policy.mtls_config.items()}
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
            "default": [*MESH_OWN_NAMESPACES, ADDONS_NAMESPACE, "kube-system"],
            "description": "Namespaces whose workloads need not be in the mesh: the mesh's own and the add-ons' "
            f"(servicemesh:observability.namespace; the project's stacks that keep them out of the mesh's "
            f"namespace use '{ADDONS_NAMESPACE}').",
        }
    }
)
DASHBOARD_SCHEMA = PolicyConfigSchema(
    properties={
        "prodEnvironments": {
            "type": "array",
            "items": {"type": "string"},
            "default": ["prod"],
            "description": "Values of servicemesh:environment (or stack names, for stacks without it) that are prod.",
        },
        "dashboardNames": {
            "type": "array",
            "items": {"type": "string"},
            "default": ["kiali", "grafana", "prometheus", "jaeger"],
            "description": "Names that identify an add-on dashboard's Services (by label or name) and Helm charts.",
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


def stack_resources(args: StackValidationArgs) -> list[Resource]:
    return [Resource(item.resource_type, item.props, item.urn, item.name) for item in args.resources]


def _report(violations: Iterable[str | Violation], report_violation: ReportViolation) -> None:
    for violation in violations:
        if isinstance(violation, Violation):
            report_violation(violation.message, violation.urn)
        else:
            report_violation(violation, None)


def _validate_mesh_wide_mtls(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    config = policy_config(args, MTLS_SCHEMA)
    _report(mesh_wide_mtls_violations(stack_resources(args), config=config), report_violation)


def _validate_peer_authentication_modes(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    allowed = policy_config(args, PEER_AUTHENTICATION_SCHEMA)["allowedNamespaces"]
    _report(
        plaintext_mode_violations(args.resource_type, args.props, allowed_namespaces=allowed),
        report_violation,
    )


def _validate_helm_charts(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    _report(helm_chart_pin_violations(args.resource_type, args.props), report_violation)


def _validate_artifact_locations(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    _report(retired_location_violations(args.resource_type, args.props), report_violation)


def _validate_images(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    _report(image_pin_violations(args.resource_type, args.props), report_violation)


def _validate_container_resources(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    _report(container_resource_violations(args.resource_type, args.props), report_violation)


def _validate_namespace_enrolment(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    exempt = policy_config(args, ENROLMENT_SCHEMA)["exemptNamespaces"]
    _report(namespace_enrolment_violations(stack_resources(args), exempt_namespaces=exempt), report_violation)


def _validate_dashboard_exposure(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    config = policy_config(args, DASHBOARD_SCHEMA)
    if stack_environment() in config["prodEnvironments"]:
        violations = dashboard_exposure_violations(
            args.resource_type, args.props, dashboard_names=config["dashboardNames"]
        )
        _report(violations, report_violation)


def _validate_disruption_budgets(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    _report(disruption_budget_advisories(stack_resources(args)), report_violation)


POLICIES: list[Policy] = [
    StackValidationPolicy(
        name="mesh-mtls-strict",
        description="mTLS is required mesh-wide, in the installed mesh's terms: "
        f"{'; '.join(entry.policy.mtls_rule for entry in REGISTRY)}.",
        validate=_validate_mesh_wide_mtls,
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=MTLS_SCHEMA,
    ),
    ResourceValidationPolicy(
        name="peer-authentication-no-plaintext",
        description="Outside the allowed namespaces, "
        f"{_in_words([entry.policy.plaintext_rule for entry in REGISTRY], 'and')}.",
        validate=_validate_peer_authentication_modes,
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=PEER_AUTHENTICATION_SCHEMA,
    ),
    ResourceValidationPolicy(
        name="helm-chart-pinned",
        description="Every Helm chart pins an exact version and names its repository.",
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
        description="No container image is untagged or tagged `latest`.",
        validate=_validate_images,
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
    ResourceValidationPolicy(
        name="container-resources-set",
        description="Every container requests CPU and memory and has a memory limit.",
        validate=_validate_container_resources,
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
    ResourceValidationPolicy(
        name="dashboard-not-exposed-in-prod",
        description="In prod, no add-on dashboard (Kiali, Grafana, Prometheus, Jaeger) is a LoadBalancer or NodePort.",
        validate=_validate_dashboard_exposure,
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=DASHBOARD_SCHEMA,
    ),
    StackValidationPolicy(
        name="replicated-workload-has-disruption-budget",
        description="Every Deployment or StatefulSet of more than one replica has a PodDisruptionBudget.",
        validate=_validate_disruption_budgets,
        enforcement_level=EnforcementLevel.ADVISORY,
    ),
]
