"""What the four add-on components share: a pinned chart installed outside the mesh."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from mesh.charts import ChartSource, install_chart
from settings.models import AddonSettings, HelmSettings


@dataclass(frozen=True, kw_only=True)
class AddonPlacement:
    """Where an add-on goes: its namespace, how charts are installed, what must exist first, and
    the pod labels that keep it out of the mesh."""

    namespace: str
    helm: HelmSettings
    after: Sequence[pulumi.Resource]
    pod_labels: Mapping[str, str]


class GeneratedSecret(NamedTuple):
    secret: pulumi.Resource
    """Depend on it before anything reads the Secret."""
    value: pulumi.Output[str]


def generated_secret(
    component: pulumi.ComponentResource,
    resource_name: str,
    *,
    placement: AddonPlacement,
    secret_name: str,
    key: str,
    length: int,
    other_data: dict[str, str] | None = None,
) -> GeneratedSecret:
    """A Kubernetes Secret holding a value `pulumi-random` generates once and keeps in state.

    The value is marked secret explicitly, whatever the provider marks, so it is redacted in
    state, outputs and renders; charts read it from the Secret, never from their values.
    """
    value = pulumi.Output.secret(
        random.RandomPassword(
            f"{resource_name}-value", length=length, special=False, opts=pulumi.ResourceOptions(parent=component)
        ).result
    )
    secret = k8s.core.v1.Secret(
        resource_name,
        metadata={"name": secret_name, "namespace": placement.namespace},
        string_data={**(other_data or {}), key: value},
        opts=pulumi.ResourceOptions(parent=component, depends_on=list(placement.after)),
    )
    return GeneratedSecret(secret=secret, value=value)


def install_addon_chart(
    component: pulumi.ComponentResource,
    resource_name: str,
    *,
    placement: AddonPlacement,
    addon: AddonSettings,
    chart: str,
    release_name: str,
    values: dict[str, Any],
    after: Sequence[pulumi.Resource] = (),
) -> pulumi.Resource:
    """Install an add-on's chart as a child of `component`, after its placement's prerequisites."""
    return install_chart(
        resource_name,
        source=ChartSource(repository=addon.chart_repository, version=addon.chart_version),
        helm=placement.helm,
        chart=chart,
        release_name=release_name,
        namespace=placement.namespace,
        values=values,
        opts=pulumi.ResourceOptions(parent=component, depends_on=[*placement.after, *after]),
    )
