"""docs/upgrades.md's table of pinned artifacts: each mesh's (from the registry) and the add-ons', with
the sources each mesh left."""

from __future__ import annotations

from mesh.implementations import REGISTRY, RETIRED_LOCATIONS
from settings.artifacts import ADDON_ARTIFACTS


def artifacts_table() -> str:
    """The pinned artifacts, their sources and the keys that override them; each mesh's notes; and
    the retired locations that config and the policy pack refuse."""
    artifacts = [*(artifact for entry in REGISTRY for artifact in entry.artifacts), *ADDON_ARTIFACTS]
    rows = [
        "| artifact | version | from | override with |",
        "|---|---|---|---|",
        *(
            f"| {artifact.name} | {artifact.version} | {artifact.source} | {artifact.settings} |"
            for artifact in artifacts
        ),
    ]
    notes = [note for entry in REGISTRY for note in entry.artifact_notes]
    retired = [f"- {entry.kind} `{entry.location}`: use {entry.replacement}." for entry in RETIRED_LOCATIONS]
    return (
        "\n".join(
            [
                *rows,
                *(["", *notes] if notes else []),
                "",
                "Retired in December 2026, and refused in config and by the policy pack:",
                "",
                *retired,
            ]
        )
        + "\n"
    )
