"""The images Consul's connect-injector adds to pods, read from the `consul` chart's render.

Every injected pod gets the consul-dataplane sidecar and the `consul-connect-inject-init`
container, which runs the consul-k8s-control-plane image; the chart hands both to the injector as
flags of its command line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

# The connect-injector's command is a shell script with lines such as
# `-consul-dataplane-image="hashicorp/consul-dataplane:2.0.3" \`.
_INJECTED_IMAGE_FLAG = re.compile(r'-consul-(?:dataplane|k8s)-image="?([^"\s\\]+)')


def injected_images(control_plane: Iterable[Mapping[str, Any]]) -> list[str]:
    """The images named by `-consul-dataplane-image` and `-consul-k8s-image` in the command line of
    the chart's connect-injector Deployment."""
    images: set[str] = set()
    for manifest in control_plane:
        if manifest.get("kind") != "Deployment":
            continue
        pod_spec = ((manifest.get("spec") or {}).get("template") or {}).get("spec") or {}
        for container in pod_spec.get("containers") or []:
            command_line = " ".join(
                str(word) for word in [*(container.get("command") or []), *(container.get("args") or [])]
            )
            images.update(_INJECTED_IMAGE_FLAG.findall(command_line))
    return sorted(images)
