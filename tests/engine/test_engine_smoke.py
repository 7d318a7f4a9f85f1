"""Smoke test of the engine built by tools/engine/build (run: pytest -m engine tests/engine).

Skips when the binaries are not built; never builds them itself (that is `make engine`).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BUILD = REPO / "tools" / "engine" / "build"
VERSIONS = REPO / "tools" / "engine" / "versions.env"

pytestmark = pytest.mark.engine


def _load_cluster_module():
    try:
        from tests.engine import cluster  # type: ignore[import-not-found]

        return cluster
    except ImportError:
        spec = importlib.util.spec_from_file_location(
            "servicemesh_engine_cluster", Path(__file__).with_name("cluster.py")
        )
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        return module


cluster_mod = _load_cluster_module()


def pinned() -> dict[str, str]:
    out = {}
    for line in VERSIONS.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            k, v = line.split("=", 1)
            out[k] = v
    return out


@pytest.fixture(scope="session")
def versions() -> dict[str, str]:
    return pinned()


@pytest.fixture(scope="session")
def bin_dir() -> Path:
    if not os.access(BUILD, os.X_OK):
        pytest.skip(f"{BUILD} not found")
    path = Path(
        subprocess.run([str(BUILD), "--print-bin-dir"], capture_output=True, text=True, check=True).stdout.strip()
    )
    if subprocess.run([str(BUILD), "--check"], capture_output=True).returncode != 0:
        pytest.skip(f"engine binaries not built in {path}: run `make engine` (tools/engine/build)")
    return path


@pytest.fixture
def pulumi_env(bin_dir: Path, tmp_path: Path) -> dict[str, str]:
    """Environment for the built CLI: temp PULUMI_HOME, file backend, ambient plugins on PATH."""
    state = tmp_path / "state"
    state.mkdir()
    env = dict(os.environ)
    env.update(
        PATH=os.pathsep.join([str(bin_dir), str(Path(sys.executable).parent), env.get("PATH", "")]),
        PULUMI_HOME=str(tmp_path / "pulumi-home"),
        PULUMI_SKIP_UPDATE_CHECK="true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION="true",
        PULUMI_CONFIG_PASSPHRASE="engine-smoke-test",
        PULUMI_PYTHON_CMD=sys.executable,
        NO_COLOR="1",
    )
    env.pop("PULUMI_ACCESS_TOKEN", None)
    env.pop("PULUMI_BACKEND_URL", None)
    run_pulumi(env, tmp_path, "login", f"file://{state}")
    return env


def run_pulumi(
    env: dict[str, str], cwd: Path, *args: str, timeout: float = 300, check: bool = True
) -> subprocess.CompletedProcess:
    """Run the built CLI in its own process group; on timeout kill the group (CLI + plugins)."""
    proc = subprocess.Popen(
        ["pulumi", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        cluster_mod.stop_process(proc, timeout=5)
        stdout, stderr = proc.communicate()
        raise AssertionError(f"pulumi {' '.join(args)} timed out after {timeout}s:\n{stdout}\n{stderr}") from None
    result = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
    if check and proc.returncode != 0:
        raise AssertionError(f"pulumi {' '.join(args)} failed ({proc.returncode}):\n{stdout}\n{stderr}")
    return result


def make_program(path: Path, name: str, main_py: str) -> Path:
    path.mkdir(parents=True)
    # No virtualenv option: run with the interpreter (and site-packages) running pytest.
    (path / "Pulumi.yaml").write_text(f"name: {name}\nruntime:\n  name: python\n  options:\n    toolchain: pip\n")
    (path / "__main__.py").write_text(main_py)
    return path


def test_pulumi_version(bin_dir: Path, pulumi_env: dict[str, str], tmp_path: Path, versions) -> None:
    out = run_pulumi(pulumi_env, tmp_path, "version").stdout.strip()
    assert out == f"v{versions['PULUMI_VERSION']}"
    lang = subprocess.run([str(bin_dir / "pulumi-language-python"), "-version"], capture_output=True, text=True)
    assert lang.stdout.strip() == f"v{versions['PULUMI_VERSION']}"
    assert os.access(bin_dir / "pulumi-language-python-exec", os.X_OK)


def test_random_program_preview_and_up(bin_dir: Path, pulumi_env: dict[str, str], tmp_path: Path, versions) -> None:
    prog = make_program(
        tmp_path / "prog",
        "engine-smoke-random",
        (
            "import pulumi\n"
            "import pulumi_random as random\n"
            "s = random.RandomString('token', length=16, special=False)\n"
            "pulumi.export('token', s.result)\n"
        ),
    )
    run_pulumi(pulumi_env, prog, "stack", "init", "smoke", "--non-interactive")
    preview = run_pulumi(pulumi_env, prog, "preview", "--non-interactive", "--diff")
    assert "random:index/randomString:RandomString" in preview.stdout or "RandomString" in preview.stdout
    up = run_pulumi(pulumi_env, prog, "up", "--yes", "--non-interactive", "--skip-preview")
    # The provider is the ambient one from our bin dir, not a downloaded plugin.
    assert f"using pulumi-resource-random from $PATH at {bin_dir / 'pulumi-resource-random'}" in up.stdout + up.stderr

    token = run_pulumi(pulumi_env, prog, "stack", "output", "token", "--show-secrets").stdout.strip()
    assert re.fullmatch(r"[A-Za-z0-9]{16}", token), token

    state = json.loads(run_pulumi(pulumi_env, prog, "stack", "export").stdout)
    providers = [r for r in state["deployment"]["resources"] if r["type"] == "pulumi:providers:random"]
    assert providers, state
    assert providers[0]["inputs"]["version"] == versions["PULUMI_RANDOM_VERSION"]
    plugin_version = subprocess.run(
        [str(bin_dir / "pulumi-resource-random"), "-version"], capture_output=True, text=True, timeout=30
    ).stdout.strip()
    assert plugin_version == versions["PULUMI_RANDOM_VERSION"]

    about = json.loads(run_pulumi(pulumi_env, prog, "about", "--json").stdout)
    assert {"name": "python", "version": versions["PULUMI_VERSION"], "kind": "language"} in about["plugins"]

    # Idempotent second run, then destroy.
    again = run_pulumi(pulumi_env, prog, "preview", "--non-interactive", "--expect-no-changes")
    assert "error" not in again.stderr.lower()
    run_pulumi(pulumi_env, prog, "destroy", "--yes", "--non-interactive", "--skip-preview")


def test_tls_program_up_and_destroy(bin_dir: Path, pulumi_env: dict[str, str], tmp_path: Path, versions) -> None:
    prog = make_program(
        tmp_path / "prog",
        "engine-smoke-tls",
        (
            "import pulumi\n"
            "import pulumi_tls as tls\n"
            "ca_key = tls.PrivateKey('ca-key', algorithm='ECDSA', ecdsa_curve='P256')\n"
            "ca = tls.SelfSignedCert('ca', private_key_pem=ca_key.private_key_pem,\n"
            "    subject=tls.SelfSignedCertSubjectArgs(common_name='smoke-ca'), is_ca_certificate=True,\n"
            "    allowed_uses=['cert_signing', 'crl_signing'], validity_period_hours=24)\n"
            "key = tls.PrivateKey('key', algorithm='ECDSA', ecdsa_curve='P256')\n"
            "req = tls.CertRequest('req', private_key_pem=key.private_key_pem,\n"
            "    subject=tls.CertRequestSubjectArgs(common_name='smoke.example'), dns_names=['smoke.example'])\n"
            "cert = tls.LocallySignedCert('cert', cert_request_pem=req.cert_request_pem,\n"
            "    ca_private_key_pem=ca_key.private_key_pem, ca_cert_pem=ca.cert_pem,\n"
            "    allowed_uses=['digital_signature', 'server_auth'], validity_period_hours=24)\n"
            "pulumi.export('ca', ca.cert_pem)\n"
            "pulumi.export('cert', cert.cert_pem)\n"
            "pulumi.export('key', key.private_key_pem)\n"
        ),
    )
    run_pulumi(pulumi_env, prog, "stack", "init", "tls", "--non-interactive")
    up = run_pulumi(pulumi_env, prog, "up", "--yes", "--non-interactive", "--skip-preview")
    assert f"using pulumi-resource-tls from $PATH at {bin_dir / 'pulumi-resource-tls'}" in up.stdout + up.stderr

    # The private key is a secret output, and an ECDSA P-256 key.
    assert run_pulumi(pulumi_env, prog, "stack", "output", "key").stdout.strip() == "[secret]"
    key = run_pulumi(pulumi_env, prog, "stack", "output", "key", "--show-secrets").stdout
    assert key.startswith("-----BEGIN EC PRIVATE KEY-----"), key[:40]
    for name in ("ca", "cert"):
        (tmp_path / f"{name}.pem").write_text(run_pulumi(pulumi_env, prog, "stack", "output", name).stdout)
    (tmp_path / "key.pem").write_text(key)
    curve = subprocess.run(
        ["openssl", "pkey", "-in", str(tmp_path / "key.pem"), "-noout", "-text"], capture_output=True, text=True
    )
    assert "prime256v1" in curve.stdout, curve.stdout + curve.stderr
    # The locally signed certificate chains to the self-signed CA.
    verify = subprocess.run(
        ["openssl", "verify", "-CAfile", str(tmp_path / "ca.pem"), str(tmp_path / "cert.pem")],
        capture_output=True,
        text=True,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr

    state = json.loads(run_pulumi(pulumi_env, prog, "stack", "export").stdout)
    resources = state["deployment"]["resources"]
    providers = [r for r in resources if r["type"] == "pulumi:providers:tls"]
    assert providers, state
    assert providers[0]["inputs"]["version"] == versions["PULUMI_TLS_VERSION"]
    keys = [r for r in resources if r["type"] == "tls:index/privateKey:PrivateKey"]
    assert len(keys) == 2
    for r in keys:
        assert "ciphertext" in r["outputs"]["privateKeyPem"], r["outputs"]["privateKeyPem"]
    plugin_version = subprocess.run(
        [str(bin_dir / "pulumi-resource-tls"), "-version"], capture_output=True, text=True, timeout=30
    ).stdout.strip()
    assert plugin_version == versions["PULUMI_TLS_VERSION"]

    # Idempotent second run, then destroy.
    again = run_pulumi(pulumi_env, prog, "preview", "--non-interactive", "--expect-no-changes")
    assert "error" not in again.stderr.lower()
    run_pulumi(pulumi_env, prog, "destroy", "--yes", "--non-interactive", "--skip-preview")


def test_helm_version_and_template(bin_dir: Path, tmp_path: Path, versions) -> None:
    env = dict(os.environ)
    env.update({f"HELM_{kind}_HOME": str(tmp_path / "helm" / kind.lower()) for kind in ("CACHE", "CONFIG", "DATA")})
    helm = str(bin_dir / "helm")
    out = subprocess.run([helm, "version", "--short"], capture_output=True, text=True, env=env, timeout=30)
    assert out.stdout.strip() == f"v{versions['HELM_VERSION']}", out.stdout + out.stderr
    # Rendering without a cluster uses the Kubernetes version stamped at build time (Helm's
    # unstamped default, 1.20, would fail the kubeVersion constraints of the charts we install).
    chart = tmp_path / "chart"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text('apiVersion: v2\nname: smoke\nversion: 0.1.0\nkubeVersion: ">=1.29.0-0"\n')
    (chart / "templates" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n"
        "data:\n  kube: {{ .Capabilities.KubeVersion.Version | quote }}\n"
    )
    rendered = subprocess.run(
        [helm, "template", "smoke", str(chart)], capture_output=True, text=True, env=env, timeout=60
    )
    assert rendered.returncode == 0, rendered.stderr
    kube = re.search(r'kube: "v1\.(\d+)\.', rendered.stdout)
    assert kube, rendered.stdout
    assert int(kube.group(1)) >= 29, rendered.stdout


def test_policy_pack_runs_through_python_language_host(pulumi_env: dict[str, str], tmp_path: Path) -> None:
    pytest.importorskip("pulumi_policy", reason="pulumi-policy is not installed in this environment")
    pack = tmp_path / "policy"
    pack.mkdir()
    (pack / "PulumiPolicy.yaml").write_text("runtime:\n  name: python\n  options:\n    toolchain: pip\n")
    (pack / "__main__.py").write_text(
        "from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy\n"
        "def no_short_strings(args, report_violation):\n"
        "    if args.resource_type == 'random:index/randomString:RandomString' and args.props['length'] < 20:\n"
        "        report_violation('random strings must be at least 20 characters')\n"
        "PolicyPack('engine-smoke', enforcement_level=EnforcementLevel.MANDATORY, policies=[\n"
        "    ResourceValidationPolicy(name='min-length', description='min length', validate=no_short_strings),\n"
        "])\n"
    )
    prog = make_program(
        tmp_path / "prog",
        "engine-smoke-policy",
        ("import pulumi_random as random\nrandom.RandomString('short', length=8)\n"),
    )
    run_pulumi(pulumi_env, prog, "stack", "init", "policy", "--non-interactive")
    proc = run_pulumi(pulumi_env, prog, "preview", "--non-interactive", "--policy-pack", str(pack), check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output
    assert "random strings must be at least 20 characters" in output, output


@pytest.fixture
def local_cluster(bin_dir: Path, tmp_path: Path):
    with cluster_mod.local_cluster(bin_dir, tmp_path / "cluster") as cluster:
        yield cluster
    # The context manager stopped everything: no process of ours may survive it.
    for name, proc in cluster.processes.items():
        assert proc.poll() is not None, f"{name} still running"
        with pytest.raises(ProcessLookupError):
            os.killpg(proc.pid, 0)


def test_local_apiserver_ready(local_cluster, versions) -> None:
    assert local_cluster.kubectl("get", "--raw", "/readyz").stdout.strip() == "ok"
    version = json.loads(local_cluster.kubectl("version", "-o", "json").stdout)
    assert version["serverVersion"]["gitVersion"] == f"v{versions['KUBERNETES_VERSION']}"
    assert version["clientVersion"]["gitVersion"] == f"v{versions['KUBERNETES_VERSION']}"
    etcd = subprocess.run([str(local_cluster.bin_dir / "etcd"), "--version"], capture_output=True, text=True)
    assert f"etcd Version: {versions['ETCD_VERSION']}" in etcd.stdout


def test_kubernetes_provider_creates_configmap(
    local_cluster, pulumi_env: dict[str, str], tmp_path: Path, versions
) -> None:
    prog = make_program(
        tmp_path / "prog",
        "engine-smoke-k8s",
        (
            "import pulumi\n"
            "import pulumi_kubernetes as k8s\n"
            "cfg = pulumi.Config()\n"
            "provider = k8s.Provider('local', kubeconfig=cfg.require('kubeconfig'))\n"
            "cm = k8s.core.v1.ConfigMap('smoke', metadata={'name': 'engine-smoke', 'namespace': 'default'},\n"
            "    data={'hello': 'world'}, opts=pulumi.ResourceOptions(provider=provider))\n"
            "pulumi.export('uid', cm.metadata.uid)\n"
        ),
    )
    run_pulumi(pulumi_env, prog, "stack", "init", "k8s", "--non-interactive")
    run_pulumi(pulumi_env, prog, "config", "set", "kubeconfig", local_cluster.kubeconfig.read_text())
    up = run_pulumi(pulumi_env, prog, "up", "--yes", "--non-interactive", "--skip-preview")
    assert "using pulumi-resource-kubernetes from $PATH" in up.stdout + up.stderr

    cm = json.loads(local_cluster.kubectl("get", "configmap", "engine-smoke", "-n", "default", "-o", "json").stdout)
    assert cm["data"] == {"hello": "world"}
    uid = run_pulumi(pulumi_env, prog, "stack", "output", "uid").stdout.strip()
    assert uid == cm["metadata"]["uid"]

    run_pulumi(pulumi_env, prog, "destroy", "--yes", "--non-interactive", "--skip-preview")
    gone = local_cluster.kubectl("get", "configmap", "engine-smoke", "-n", "default", check=False)
    assert gone.returncode != 0
    assert "NotFound" in gone.stderr
