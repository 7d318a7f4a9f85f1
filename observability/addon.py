"""What the four add-on components share: a pinned chart installed outside the mesh."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi

from mesh.charts import ChartSource, install_chart
from settings.models import HelmSettings


@dataclass(frozen=True, kw_only=True)
class AddonPlacement:
    """Where an add-on goes: its namespace, how charts are installed, and what must exist first."""

    namespace: str
    helm: HelmSettings
    after: Sequence[pulumi.Resource]


def install_addon_chart(
    component: pulumi.ComponentResource,
    resource_name: str,
    *,
    placement: AddonPlacement,
    repository: str,
    version: str,
    chart: str,
    release_name: str,
    values: dict[str, Any],
    after: Sequence[pulumi.Resource] = (),
) -> pulumi.Resource:
    """Install an add-on's chart as a child of `component`, after its placement's prerequisites."""
    return install_chart(
        resource_name,
        source=ChartSource(repository=repository, version=version),
        helm=placement.helm,
        chart=chart,
        release_name=release_name,
        namespace=placement.namespace,
        values=values,
        opts=pulumi.ResourceOptions(parent=component, depends_on=[*placement.after, *after]),
    )
