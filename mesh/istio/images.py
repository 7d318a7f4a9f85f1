"""The images Istio's injector adds to pods, read from the istiod chart's render.

Sidecars, their init container, the ingress gateway (whose pods the gateway chart renders with
`image: auto`) and waypoints all get the proxy image at admission, so it appears in no pod
template; istiod builds it from the values of its injector ConfigMap, as below.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

# istiod's injector ConfigMap (`-<revision>` appended for a revisioned control plane); its `values`
# key holds, as JSON, the chart values the injection templates read.
INJECTOR_CONFIG_MAP = "istio-sidecar-injector"
DEFAULT_PROXY_IMAGE = "proxyv2"
# Tag suffixes of the image variants Istio publishes; `default` names the plain image.
PUBLISHED_VARIANTS = ("distroless", "debug")
DEFAULT_VARIANT = "default"


def injected_images(control_plane: Iterable[Mapping[str, Any]]) -> list[str]:
    """The images istiod injects, for every injector ConfigMap in the rendered istiod chart."""
    images: set[str] = set()
    for manifest in control_plane:
        metadata = manifest.get("metadata") or {}
        if manifest.get("kind") == "ConfigMap" and str(metadata.get("name", "")).startswith(INJECTOR_CONFIG_MAP):
            global_values = json.loads((manifest.get("data") or {}).get("values") or "{}").get("global") or {}
            images |= _images_of(global_values)
    return sorted(images)


def _images_of(global_values: Mapping[str, Any]) -> set[str]:
    # The injection templates use `global.proxy.image` / `global.proxy_init.image` as they are when
    # they contain a `/` (a full reference), and istiod's computed `.ProxyImage` otherwise.
    proxy = proxy_image(global_values)
    return {
        _full_reference_or(str((global_values.get(key) or {}).get("image") or ""), proxy)
        for key in ("proxy", "proxy_init")
    }


def _full_reference_or(image: str, default: str) -> str:
    return image if "/" in image else default


def proxy_image(global_values: Mapping[str, Any]) -> str:
    """istiod's `.ProxyImage`: `<hub>/<proxy.image>:<tag>`, the tag ending in `-<variant>` if a
    variant is set (Istio's `inject.ProxyImage`; a `meshConfig.defaultConfig.image.imageType`,
    which this program never sets, would take the variant's place)."""
    name = str((global_values.get("proxy") or {}).get("image") or DEFAULT_PROXY_IMAGE)
    tag = str(global_values.get("tag") or "")
    return f"{global_values.get('hub')}/{name}:{_with_variant(tag, str(global_values.get('variant') or ''))}"


def _with_variant(tag: str, variant: str) -> str:
    if not variant:
        return tag
    for published in PUBLISHED_VARIANTS:
        if tag.endswith(f"-{published}"):
            tag = tag.removesuffix(f"-{published}")
            break
    return tag if variant == DEFAULT_VARIANT else f"{tag}-{variant}"
