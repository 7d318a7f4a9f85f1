"""The config a stack runs with on a target: its real stack file plus only what the target needs.

- On a node-less control plane (the embedded local cluster, the end-to-end tests' clusters),
  `cluster.apiServerOnly`: nothing there ever becomes ready, so the stack waits for nothing.
- Where the charts' repositories are not reachable, every chart from the published charts on disk
  (one folder per chart name) and the Gateway API CRDs from their release manifest on disk.

It is written to a stack config file of its own, which `pulumi --config-file` reads, so a run never
edits the project's stack files.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from review.stacks import read_stack_file, stack_config, stack_file, with_overrides
from settings.loader import load_settings
from settings.models import CHART_REPOSITORY, MANIFEST
from settings.rules import artifact_sources
from settings.stack import StackSettings

API_SERVER_ONLY = "servicemesh:cluster.apiServerOnly"


@dataclass(frozen=True, kw_only=True)
class PublishedCharts:
    """The published charts on disk, one folder per chart name the program asks for, and the
    Gateway API CRDs' release manifest: what the stack would download, without a network."""

    directory: Path
    gateway_api_crds: Path | None = None

    def sources(self, settings: StackSettings) -> dict[str, str]:
        """Config taking every chart the stack's settings name a repository for from here, and
        every manifest they download that is the Gateway API CRDs' (by its file name), when that is
        given.

        Helm installs a chart from a local folder whatever version the stack pins, so the folder's
        chart is the one installed."""
        charts = dict.fromkeys(
            (key for key, _ in artifact_sources(settings, kind=CHART_REPOSITORY)), str(self.directory)
        )
        crds = self.gateway_api_crds
        manifests = {
            key: str(crds)
            for key, source in artifact_sources(settings, kind=MANIFEST)
            if crds is not None and source.rsplit("/", 1)[-1] == crds.name
        }
        return charts | manifests


def target_overrides(
    base_stack: str,
    *,
    api_server_only: bool,
    charts: PublishedCharts | None,
    overrides: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """What a target changes in `base_stack`'s config (with `overrides`): `cluster.apiServerOnly`,
    and the chart sources when `charts` are given."""
    sources = {}
    if charts is not None:
        sources = charts.sources(load_settings(stack_config(base_stack, overrides)))
    return {**({API_SERVER_ONLY: True} if api_server_only else {}), **sources}


def run_config(base_stack: str, overrides: Mapping[str, Any]) -> dict[str, Any]:
    """The `config:` of `base_stack`'s stack file with `overrides` applied."""
    return with_overrides(read_stack_file(stack_file(base_stack)), overrides)


def write_stack_config(path: Path, config: Mapping[str, Any], *, made_from: Path | None = None) -> None:
    """Write `config` as the `config:` of the stack config file `path`.

    Its other keys (the secrets provider and salt Pulumi keeps there) stay; those the stack file
    it is `made_from` sets come from there, so the secrets that file holds decrypt the same."""
    document = _other_keys(path)
    if made_from is not None:
        document |= _other_keys(made_from)
    # Through JSON, so whatever mapping and scalar types the stack file was read into are written
    # as plain YAML (strings that read as something else are quoted).
    plain = json.loads(json.dumps({**document, "config": dict(config)}))
    path.write_text(yaml.safe_dump(plain, sort_keys=False))


def _other_keys(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    document = yaml.safe_load(path.read_text()) or {}
    return {key: value for key, value in document.items() if key != "config"}
