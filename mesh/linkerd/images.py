"""The image Linkerd's proxy injector adds to pods, read from the linkerd-control-plane chart's render.

Every injected pod gets the proxy and, unless the CNI plugin is used, the `linkerd-init` container,
which runs the same image (the chart's `partials` build both from `proxy.image`). The debug
sidecar, injected only on request per pod, is left out: this program never asks for it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import yaml

# The ConfigMap whose `values` key holds, as YAML, the chart values the injector renders pods with.
CONFIG_MAP = "linkerd-config"


def injected_images(control_plane: Iterable[Mapping[str, Any]]) -> list[str]:
    """The proxy image, `<proxy.image.name>:<proxy.image.version or linkerdVersion>`."""
    images: set[str] = set()
    for manifest in control_plane:
        if manifest.get("kind") == "ConfigMap" and (manifest.get("metadata") or {}).get("name") == CONFIG_MAP:
            values = yaml.safe_load((manifest.get("data") or {}).get("values") or "") or {}
            image = (values.get("proxy") or {}).get("image") or {}
            images.add(f"{image.get('name')}:{image.get('version') or values.get('linkerdVersion')}")
    return sorted(images)
