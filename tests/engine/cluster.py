"""A throwaway local Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager) on loopback.

Reusable by the smoke test and the e2e suite::

    from tests.engine.cluster import local_cluster

    with local_cluster(bin_dir, workdir) as cluster:
        cluster.kubectl("get", "--raw", "/readyz")
        # cluster.kubeconfig is a kubeconfig file for an admin (system:masters) user

kube-controller-manager runs too (garbage collector, namespace and service-account
controllers, ...), so foreground deletion, namespace deletion and default service accounts
behave as on a real cluster. There is no kubelet or scheduler: Pods are stored but never
run, so Deployments etc. never become ready (use ``pulumi.com/skipAwait`` for those).
Certificates are generated with the openssl CLI. Every process is started in its own
process group and the whole group is killed on exit, even when the body raises.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

LOOPBACK = "127.0.0.1"


class ClusterError(RuntimeError):
    pass


@dataclasses.dataclass
class Cluster:
    bin_dir: Path
    workdir: Path
    kubeconfig: Path
    server: str
    etcd_endpoint: str
    processes: dict[str, subprocess.Popen]

    def kubectl(self, *args: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(self.bin_dir / "kubectl"), "--kubeconfig", str(self.kubeconfig), *args],
            capture_output=True,
            text=True,
            check=check,
            timeout=timeout,
        )

    def log(self, name: str) -> str:
        path = self.workdir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, text=True)


def generate_pki(pki: Path) -> None:
    """CA, API server serving cert (127.0.0.1/localhost), admin client cert, service-account keys."""
    if shutil.which("openssl") is None:
        raise ClusterError("openssl is required to generate the local cluster's certificates")
    pki.mkdir(parents=True, exist_ok=True)
    days = "2"
    _openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        days,
        "-subj",
        "/CN=servicemesh-test-ca",
        cwd=pki,
    )
    (pki / "server.ext").write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,"
        "DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\n"
    )
    (pki / "client.ext").write_text("extendedKeyUsage=clientAuth\n")
    for name, subj, ext in (
        ("apiserver", "/CN=kube-apiserver", "server.ext"),
        ("admin", "/O=system:masters/CN=servicemesh-admin", "client.ext"),
    ):
        _openssl(
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            f"{name}.key",
            "-out",
            f"{name}.csr",
            "-subj",
            subj,
            cwd=pki,
        )
        _openssl(
            "x509",
            "-req",
            "-in",
            f"{name}.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            f"{name}.crt",
            "-days",
            days,
            "-extfile",
            ext,
            cwd=pki,
        )
    _openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "sa.key", cwd=pki)
    _openssl("pkey", "-in", "sa.key", "-pubout", "-out", "sa.pub", cwd=pki)


def write_kubeconfig(path: Path, server: str, pki: Path) -> None:
    path.write_text(
        f"""apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: {server}
    certificate-authority: {pki / "ca.crt"}
users:
- name: admin
  user:
    client-certificate: {pki / "admin.crt"}
    client-key: {pki / "admin.key"}
contexts:
- name: local
  context:
    cluster: local
    user: admin
    namespace: default
current-context: local
"""
    )


def _start(name: str, argv: list[str], workdir: Path) -> subprocess.Popen:
    log = open(workdir / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
    try:
        return subprocess.Popen(
            argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=workdir,
            start_new_session=True,
        )
    finally:
        log.close()


def stop_process(proc: subprocess.Popen, timeout: float = 15) -> None:
    """SIGTERM the process group, then SIGKILL it if it does not exit in time."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=timeout)
    # Kill whatever is left in the group (also after a clean exit of the leader).
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)


def _wait_for(desc: str, probe, timeout: float, procs: dict[str, subprocess.Popen], workdir: Path) -> None:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        for name, proc in procs.items():
            if proc.poll() is not None:
                tail = (workdir / f"{name}.log").read_text(errors="replace")[-3000:]
                raise ClusterError(f"{name} exited with {proc.returncode} while waiting for {desc}:\n{tail}")
        ok, last = probe()
        if ok:
            return
        time.sleep(0.5)
    raise ClusterError(f"timed out after {timeout:.0f}s waiting for {desc}; last answer: {last}")


@contextlib.contextmanager
def local_cluster(
    bin_dir: str | os.PathLike,
    workdir: str | os.PathLike | None = None,
    *,
    extra_apiserver_args: tuple[str, ...] = (),
    controller_manager: bool = True,
    timeout: float = 120,
) -> Iterator[Cluster]:
    """Start etcd + kube-apiserver (+ kube-controller-manager) on loopback; stop all on exit."""
    bin_dir = Path(bin_dir)
    tools = ("etcd", "kube-apiserver", "kubectl") + (("kube-controller-manager",) if controller_manager else ())
    for tool in tools:
        if not os.access(bin_dir / tool, os.X_OK):
            raise ClusterError(f"{bin_dir / tool} is missing; run `make engine` (tools/engine/build)")
    own_tmp = None
    if workdir is None:
        own_tmp = tempfile.mkdtemp(prefix="servicemesh-cluster-")
        workdir = own_tmp
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    pki = workdir / "pki"
    generate_pki(pki)

    etcd_client, etcd_peer, api_port = free_port(), free_port(), free_port()
    etcd_endpoint = f"http://{LOOPBACK}:{etcd_client}"
    server = f"https://{LOOPBACK}:{api_port}"
    kubeconfig = workdir / "kubeconfig"
    write_kubeconfig(kubeconfig, server, pki)

    procs: dict[str, subprocess.Popen] = {}
    cluster = Cluster(bin_dir, workdir, kubeconfig, server, etcd_endpoint, procs)
    try:
        procs["etcd"] = _start(
            "etcd",
            [
                str(bin_dir / "etcd"),
                "--name",
                "servicemesh-test",
                "--data-dir",
                str(workdir / "etcd-data"),
                "--listen-client-urls",
                etcd_endpoint,
                "--advertise-client-urls",
                etcd_endpoint,
                "--listen-peer-urls",
                f"http://{LOOPBACK}:{etcd_peer}",
                "--initial-advertise-peer-urls",
                f"http://{LOOPBACK}:{etcd_peer}",
                "--initial-cluster",
                f"servicemesh-test=http://{LOOPBACK}:{etcd_peer}",
                "--listen-metrics-urls",
                f"http://{LOOPBACK}:{free_port()}",
                "--unsafe-no-fsync",
                "--log-level",
                "warn",
            ],
            workdir,
        )

        def etcd_ready():
            try:
                with socket.create_connection((LOOPBACK, etcd_client), timeout=1):
                    return True, "connected"
            except OSError as e:
                return False, str(e)

        _wait_for("etcd", etcd_ready, timeout, procs, workdir)

        procs["kube-apiserver"] = _start(
            "kube-apiserver",
            [
                str(bin_dir / "kube-apiserver"),
                "--etcd-servers",
                etcd_endpoint,
                "--bind-address",
                LOOPBACK,
                "--advertise-address",
                LOOPBACK,
                "--secure-port",
                str(api_port),
                "--tls-cert-file",
                str(pki / "apiserver.crt"),
                "--tls-private-key-file",
                str(pki / "apiserver.key"),
                "--client-ca-file",
                str(pki / "ca.crt"),
                "--service-account-issuer",
                "https://kubernetes.default.svc.cluster.local",
                "--service-account-key-file",
                str(pki / "sa.pub"),
                "--service-account-signing-key-file",
                str(pki / "sa.key"),
                "--service-cluster-ip-range",
                "10.96.0.0/16",
                "--authorization-mode",
                "RBAC",
                "--allow-privileged=true",
                # Don't publish a loopback address as the "kubernetes" service endpoint.
                "--endpoint-reconciler-type",
                "none",
                # Without the controller manager nobody creates default service accounts.
                *(() if controller_manager else ("--disable-admission-plugins", "ServiceAccount")),
                "--cert-dir",
                str(workdir / "apiserver-certs"),
                *extra_apiserver_args,
            ],
            workdir,
        )

        def api_ready():
            r = cluster.kubectl("get", "--raw", "/readyz", check=False, timeout=10)
            out = (r.stdout + r.stderr).strip()
            return r.returncode == 0 and out == "ok", out[-300:]

        _wait_for("kube-apiserver /readyz", api_ready, timeout, procs, workdir)

        if controller_manager:
            procs["kube-controller-manager"] = _start(
                "kube-controller-manager",
                [
                    str(bin_dir / "kube-controller-manager"),
                    "--kubeconfig",
                    str(kubeconfig),
                    "--authentication-kubeconfig",
                    str(kubeconfig),
                    "--authorization-kubeconfig",
                    str(kubeconfig),
                    "--bind-address",
                    LOOPBACK,
                    "--secure-port",
                    str(free_port()),
                    "--cert-dir",
                    str(workdir / "controller-manager-certs"),
                    "--leader-elect=false",
                    "--use-service-account-credentials=false",
                    "--service-account-private-key-file",
                    str(pki / "sa.key"),
                    "--root-ca-file",
                    str(pki / "ca.crt"),
                    "--cluster-signing-cert-file",
                    str(pki / "ca.crt"),
                    "--cluster-signing-key-file",
                    str(pki / "ca.key"),
                    "--service-cluster-ip-range",
                    "10.96.0.0/16",
                ],
                workdir,
            )

            def controllers_ready():
                r = cluster.kubectl(
                    "get", "serviceaccount", "default", "-n", "default", "-o", "name", check=False, timeout=10
                )
                return r.returncode == 0, (r.stdout + r.stderr).strip()[-300:]

            _wait_for(
                "the default service account (kube-controller-manager)", controllers_ready, timeout, procs, workdir
            )
        yield cluster
    finally:
        for name in ("kube-controller-manager", "kube-apiserver", "etcd"):
            if name in procs:
                stop_process(procs[name])
        if own_tmp is not None:
            shutil.rmtree(own_tmp, ignore_errors=True)
