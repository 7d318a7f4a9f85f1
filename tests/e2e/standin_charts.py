"""Stand-in Helm charts for the end-to-end tests, written by the project under upstream names.

No chart repository is reachable in the test environment, so the stack's chart repositories
point at a local directory of these. Each chart renders one ConfigMap,
`<release>-received-values`, holding the values Helm gave it as JSON, so a test can check that the
program's values reach Helm intact. The `base` chart also carries Istio's real CRDs as templates,
as Istio's own base chart does (`base.enableCRDTemplates`), so the API server validates the
stack's Istio resources against Istio's own schemas.
"""

from __future__ import annotations

from pathlib import Path

# Every chart the program installs, by the name it asks for.
CHART_NAMES = ("base", "istiod", "gateway", "prometheus", "grafana", "kiali-server", "jaeger")
RECEIVED_VALUES_SUFFIX = "-received-values"

_RECORDER = """apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-received-values
  namespace: {{ .Release.Namespace }}
data:
  chart: {{ .Chart.Name | quote }}
  values.json: {{ toJson .Values | quote }}
"""


def write_standin_charts(directory: Path, *, istio_crds: Path) -> Path:
    """Write one stand-in chart per upstream chart name into `directory`; returns it."""
    for name in CHART_NAMES:
        chart = directory / name
        (chart / "templates").mkdir(parents=True)
        (chart / "Chart.yaml").write_text(
            f"apiVersion: v2\nname: {name}\nversion: 0.0.0-standin\ndescription: Records the values it receives.\n"
        )
        (chart / "values.yaml").write_text("{}\n")
        (chart / "templates" / "received-values.yaml").write_text(_RECORDER)
    (directory / "base" / "templates" / istio_crds.name).write_bytes(istio_crds.read_bytes())
    return directory
