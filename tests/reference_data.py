"""Where the upstream reference data (Istio's CRDs and the charts' values) is found, if anywhere.

It lives in `../shared/reference/` beside the project, or where SERVICEMESH_REFERENCE_DIR points;
tests that read it skip with the reason when it is absent (a user's clone of the project alone).
"""

from __future__ import annotations

import os
from pathlib import Path

from stack_harness import PROJECT_ROOT

from mesh.istio.artifacts import GATEWAY_API_VERSION, ISTIO_VERSION

REFERENCE = Path(os.environ.get("SERVICEMESH_REFERENCE_DIR", PROJECT_ROOT.parent / "shared" / "reference"))
ISTIO = REFERENCE / f"istio-{ISTIO_VERSION}"
# The published charts, templates included, one folder per chart name the program asks for.
HELM_CHARTS = REFERENCE / "helm-charts"
GATEWAY_API_CRDS = REFERENCE / f"gateway-api-v{GATEWAY_API_VERSION}" / "standard-install.yaml"
MISSING_REASON = f"upstream reference data not found at {REFERENCE} (set SERVICEMESH_REFERENCE_DIR to check against it)"
