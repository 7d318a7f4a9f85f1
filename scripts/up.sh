#!/usr/bin/env bash
# Runs `pulumi up` (or `preview`) of $STACK against the current kubectl context, creating a
# local kind cluster first when no context is configured.
set -euo pipefail
cd "$(dirname "$0")/.."

action=${1:-up}
stack=${STACK:-dev}
cluster=servicemesh-${stack}

missing=()
for tool in pulumi kubectl kind; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if ((${#missing[@]})); then
  echo "missing on PATH: ${missing[*]}" >&2
  echo "install: pulumi https://www.pulumi.com/docs/install/ · kubectl https://kubernetes.io/docs/tasks/tools/ · kind https://kind.sigs.k8s.io/" >&2
  exit 1
fi

if ! context=$(kubectl config current-context 2>/dev/null); then
  echo "no kubectl context configured: creating kind cluster '${cluster}'"
  kind create cluster --name "${cluster}" --wait 120s
  context=$(kubectl config current-context)
fi
echo "cluster context: ${context}"

if [[ ${PULUMI_BACKEND_URL} == file://* ]]; then
  mkdir -p "${PULUMI_BACKEND_URL#file://}"
fi
pulumi login "${PULUMI_BACKEND_URL}"
pulumi stack select "${stack}" --create
exec pulumi "${action}" --stack "${stack}" --policy-pack policy
