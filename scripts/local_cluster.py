"""A local Kubernetes control plane on loopback: etcd, kube-apiserver and kube-controller-manager,
from the binaries `tools/engine/build` makes.

It stores and serves every object, and the controller manager (garbage collector, namespace and
service-account controllers) makes foreground deletion, namespace deletion and default service
accounts behave as on a real cluster. There is no kubelet or scheduler: Pods are stored but never
run, so nothing ever becomes ready (stacks on it set `cluster.apiServerOnly`). Certificates are
generated with the openssl CLI. Every process runs in a process group of its own.

Two ways to run it:

- `local_cluster(bin_dir, workdir)`, for tests: a throwaway cluster whose processes are all
  stopped on exit (and whose temporary workdir goes), even when the body raises;
- `python -m scripts.local_cluster start|stop|status [--dir DIR]`, what `make up` runs when there is
  no other cluster: it runs in the background with its data, PKI, kubeconfig and PIDs in DIR
  (`.local/cluster/`) and survives between runs; `stop` ends its own PIDs and removes DIR.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

LOOPBACK = "127.0.0.1"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENGINE_BUILD = PROJECT_ROOT / "tools" / "engine" / "build"
DEFAULT_DIR = PROJECT_ROOT / ".local" / "cluster"
CONTROL_PLANE = ("etcd", "kube-apiserver", "kube-controller-manager")
"""The binaries a cluster runs, in start order (`kubectl` is needed to probe it)."""
STATE_FILE = "cluster.json"
KUBECONFIG = "kubeconfig"
# A test cluster lives minutes; the background one lives until `make down`.
TEST_CERTIFICATE_DAYS = 2
BACKGROUND_CERTIFICATE_DAYS = 365
SERVICE_CLUSTER_IP_RANGE = "10.96.0.0/16"
# No pod serves an admission webhook on a node-less API server (istiod, Linkerd's proxy injector,
# Consul's connect-injector never run), and the charts register theirs with `failurePolicy: Fail`:
# with the webhook plugins on, every Istio or Consul resource, and every pod the controllers
# create in an injected namespace, would be refused for want of the webhook's service.
WITHOUT_ADMISSION_WEBHOOKS = ("--disable-admission-plugins=MutatingAdmissionWebhook,ValidatingAdmissionWebhook",)


class ClusterError(RuntimeError):
    """The control plane could not be started or probed; the message says why."""


@dataclasses.dataclass
class Cluster:
    """A running control plane: its admin kubeconfig, its endpoints and (while the process that
    started it lives) its processes."""

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

    def answers(self) -> bool:
        """Whether the API server says it is ready."""
        with contextlib.suppress(subprocess.TimeoutExpired):
            result = self.kubectl("get", "--raw", "/readyz", check=False, timeout=10)
            return result.returncode == 0 and result.stdout.strip() == "ok"
        return False


@dataclasses.dataclass(frozen=True, kw_only=True)
class Ports:
    etcd_client: int
    etcd_peer: int
    etcd_metrics: int
    apiserver: int
    controller_manager: int

    @classmethod
    def free(cls) -> Ports:
        return cls(**{field.name: free_port() for field in dataclasses.fields(cls)})

    def all_free(self) -> bool:
        return all(port_is_free(port) for port in dataclasses.astuple(self))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        # As the servers bind: a port whose last connections are still closing counts as free.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((LOOPBACK, port))
        except OSError:
            return False
        return True


def engine_bin_dir() -> Path:
    """Where `tools/engine/build` puts (or would put) the binaries."""
    printed = subprocess.run([str(ENGINE_BUILD), "--print-bin-dir"], capture_output=True, text=True, check=True)
    return Path(printed.stdout.strip())


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, text=True)


def generate_pki(pki: Path, *, days: int = TEST_CERTIFICATE_DAYS) -> None:
    """CA, API server serving cert (127.0.0.1/localhost), admin client cert, service-account keys."""
    if shutil.which("openssl") is None:
        raise ClusterError("openssl is required to generate the local cluster's certificates")
    pki.mkdir(parents=True, exist_ok=True)
    valid = str(days)
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
        valid,
        "-subj",
        "/CN=servicemesh-local-ca",
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
            valid,
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
    # Appends, so a restarted background cluster keeps the logs of its earlier runs.
    log = open(workdir / f"{name}.log", "ab")  # noqa: SIM115 - the child holds it; ours is closed at once
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


def _wait_for(
    desc: str,
    probe: Callable[[], tuple[bool, str]],
    timeout: float,
    procs: dict[str, subprocess.Popen],
    workdir: Path,
) -> None:
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


def _check_binaries(bin_dir: Path, names: tuple[str, ...]) -> None:
    for name in names:
        if not os.access(bin_dir / name, os.X_OK):
            raise ClusterError(f"{bin_dir / name} is missing; run `make engine` (tools/engine/build)")


def _launch(
    bin_dir: Path,
    workdir: Path,
    ports: Ports,
    *,
    extra_apiserver_args: tuple[str, ...],
    controller_manager: bool,
    timeout: float,
) -> Cluster:
    """Start etcd, kube-apiserver (and kube-controller-manager) on `ports` with the PKI in
    `workdir/pki`, and wait until each answers; stop what was started if one does not."""
    pki = workdir / "pki"
    etcd_endpoint = f"http://{LOOPBACK}:{ports.etcd_client}"
    peer = f"http://{LOOPBACK}:{ports.etcd_peer}"
    server = f"https://{LOOPBACK}:{ports.apiserver}"
    kubeconfig = workdir / KUBECONFIG
    write_kubeconfig(kubeconfig, server, pki)
    procs: dict[str, subprocess.Popen] = {}
    cluster = Cluster(bin_dir, workdir, kubeconfig, server, etcd_endpoint, procs)
    try:
        procs["etcd"] = _start(
            "etcd",
            [
                str(bin_dir / "etcd"),
                "--name",
                "servicemesh-local",
                "--data-dir",
                str(workdir / "etcd-data"),
                "--listen-client-urls",
                etcd_endpoint,
                "--advertise-client-urls",
                etcd_endpoint,
                "--listen-peer-urls",
                peer,
                "--initial-advertise-peer-urls",
                peer,
                "--initial-cluster",
                f"servicemesh-local={peer}",
                "--listen-metrics-urls",
                f"http://{LOOPBACK}:{ports.etcd_metrics}",
                "--unsafe-no-fsync",
                "--log-level",
                "warn",
            ],
            workdir,
        )

        def etcd_ready() -> tuple[bool, str]:
            try:
                with socket.create_connection((LOOPBACK, ports.etcd_client), timeout=1):
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
                str(ports.apiserver),
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
                SERVICE_CLUSTER_IP_RANGE,
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

        def api_ready() -> tuple[bool, str]:
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
                    str(ports.controller_manager),
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
                    SERVICE_CLUSTER_IP_RANGE,
                ],
                workdir,
            )

            def controllers_ready() -> tuple[bool, str]:
                r = cluster.kubectl(
                    "get", "serviceaccount", "default", "-n", "default", "-o", "name", check=False, timeout=10
                )
                return r.returncode == 0, (r.stdout + r.stderr).strip()[-300:]

            _wait_for(
                "the default service account (kube-controller-manager)", controllers_ready, timeout, procs, workdir
            )
    except BaseException:
        _stop_all(procs)
        raise
    return cluster


def _stop_all(procs: dict[str, subprocess.Popen]) -> None:
    for name in reversed(CONTROL_PLANE):
        if name in procs:
            stop_process(procs[name])


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
    needed = (
        CONTROL_PLANE
        if controller_manager
        else tuple(name for name in CONTROL_PLANE if name != "kube-controller-manager")
    )
    _check_binaries(bin_dir, (*needed, "kubectl"))
    own_tmp = None
    if workdir is None:
        own_tmp = tempfile.mkdtemp(prefix="servicemesh-cluster-")
        workdir = own_tmp
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        generate_pki(workdir / "pki")
        cluster = _launch(
            bin_dir,
            workdir,
            Ports.free(),
            extra_apiserver_args=extra_apiserver_args,
            controller_manager=controller_manager,
            timeout=timeout,
        )
        try:
            yield cluster
        finally:
            _stop_all(cluster.processes)
    finally:
        if own_tmp is not None:
            shutil.rmtree(own_tmp, ignore_errors=True)


# ---------------------------------------------------------------- the background cluster


@dataclasses.dataclass(frozen=True, kw_only=True)
class Started:
    cluster: Cluster
    already_running: bool


def _read_state(workdir: Path) -> dict | None:
    path = workdir / STATE_FILE
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError:
        return None


def command_line(pid: int) -> str | None:
    """The command line of a live process, or None when there is none (a zombie counts as none)."""
    shown = subprocess.run(["ps", "-ww", "-p", str(pid), "-o", "stat=,args="], capture_output=True, text=True)
    stat, _, args = shown.stdout.strip().partition(" ")
    if shown.returncode != 0 or not stat or stat.startswith("Z"):
        return None
    return args.strip()


def _own_pids(state: dict) -> dict[str, int]:
    """The recorded processes that still run the recorded binary (a reused PID is someone else's)."""
    binaries = state.get("binaries", {})
    own = {}
    for name, pid in state.get("processes", {}).items():
        command = command_line(pid)
        binary = binaries.get(name)
        if command is not None and binary and (command == binary or command.startswith(f"{binary} ")):
            own[name] = pid
    return own


def _kill_group(pid: int, timeout: float = 15) -> None:
    """SIGTERM a process group we did not start in this process, then SIGKILL it if its leader
    does not exit in time (it may not be our child, so poll instead of waiting)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and command_line(pid) is not None:
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _cluster_from_state(workdir: Path, state: dict) -> Cluster:
    return Cluster(Path(state["bin_dir"]), workdir, workdir / KUBECONFIG, state["server"], state["etcd_endpoint"], {})


def start(workdir: Path = DEFAULT_DIR, *, bin_dir: Path, timeout: float = 120) -> Started:
    """The background cluster in `workdir`: the running one if it answers, else (re)started on its
    own data, PKI and, when they are still free, ports."""
    state = _read_state(workdir)
    if state is not None:
        running = _own_pids(state)
        if set(running) == set(CONTROL_PLANE) and _cluster_from_state(workdir, state).answers():
            return Started(cluster=_cluster_from_state(workdir, state), already_running=True)
        for name in reversed(CONTROL_PLANE):
            if name in running:
                _kill_group(running[name])
    _check_binaries(bin_dir, (*CONTROL_PLANE, "kubectl"))
    workdir.mkdir(parents=True, exist_ok=True)
    if not (workdir / "pki" / "sa.pub").is_file():
        generate_pki(workdir / "pki", days=BACKGROUND_CERTIFICATE_DAYS)
    previous = Ports(**state["ports"]) if state and "ports" in state else None
    ports = previous if previous is not None and previous.all_free() else Ports.free()
    cluster = _launch(
        bin_dir,
        workdir,
        ports,
        extra_apiserver_args=WITHOUT_ADMISSION_WEBHOOKS,
        controller_manager=True,
        timeout=timeout,
    )
    record = {
        "server": cluster.server,
        "etcd_endpoint": cluster.etcd_endpoint,
        "bin_dir": str(bin_dir),
        "ports": dataclasses.asdict(ports),
        "processes": {name: proc.pid for name, proc in cluster.processes.items()},
        "binaries": {name: proc.args[0] for name, proc in cluster.processes.items()},
    }
    (workdir / STATE_FILE).write_text(json.dumps(record, indent=2) + "\n")
    return Started(cluster=cluster, already_running=False)


def stop(workdir: Path = DEFAULT_DIR) -> list[str]:
    """Stop the background cluster's own processes and remove `workdir`; the names of those stopped."""
    state = _read_state(workdir) or {}
    running = _own_pids(state)
    for name in reversed(CONTROL_PLANE):
        if name in running:
            _kill_group(running[name])
    shutil.rmtree(workdir, ignore_errors=True)
    return [name for name in CONTROL_PLANE if name in running]


def status(workdir: Path = DEFAULT_DIR) -> str:
    """One line: whether the background cluster runs, and where."""
    state = _read_state(workdir)
    if state is None:
        return f"no local cluster in {workdir}"
    running = _own_pids(state)
    if set(running) == set(CONTROL_PLANE):
        pids = ", ".join(f"{name} {pid}" for name, pid in running.items())
        return f"running at {state['server']} (kubeconfig {workdir / KUBECONFIG}; {pids})"
    return f"stopped, data kept in {workdir} (`start` runs it again on the same data)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.local_cluster", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("start", "stop", "status"))
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR, help=f"its folder (default {DEFAULT_DIR})")
    args = parser.parse_args(argv)
    if args.command == "start":
        try:
            started = start(args.dir, bin_dir=engine_bin_dir())
        except ClusterError as error:
            print(f"local cluster: {error}", file=sys.stderr)
            return 1
        print(f"local cluster {'already ' if started.already_running else ''}running at {started.cluster.server}")
        print(f"export KUBECONFIG={started.cluster.kubeconfig}")
    elif args.command == "stop":
        stopped = stop(args.dir)
        print(f"local cluster: stopped {', '.join(stopped) or 'nothing (not running)'}; removed {args.dir}")
    else:
        print(f"local cluster: {status(args.dir)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
