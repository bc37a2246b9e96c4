"""Helpers shared by the benchmarks: servers on free loopback ports, the Glances virtualenv, machine facts.

Every server a benchmark starts runs in its own process group on 127.0.0.1 and is stopped by
``ServerPool.close()`` (also on error or Ctrl-C), so a failed run leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO, Any

import psutil

REPO_ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = REPO_ROOT / "bench"
WORK_DIR = BENCH_DIR / ".work"
RESULTS_DIR = BENCH_DIR / "results"
GLANCES_VENV = WORK_DIR / "glances-venv"
HOST = "127.0.0.1"

MONITORING_ALL = "/api/v1/system/monitoring/all"
GLANCES_ALL = "/api/4/all"

# Glances' web extra, plus uvicorn's "standard" extra so that Glances runs on the same uvloop + httptools
# stack as our service: the comparison is then about the applications, not about the HTTP parser.
GLANCES_REQUIREMENTS = ("glances[web]", "uvicorn[standard]")

# Settings that would change how our service samples or logs if they leaked in from the caller's shell.
_SERVICE_ENV = ("GPU_POLL_INTERVAL", "ENABLE_GPU_MONITORING", "LOG_LEVEL", "LOG_FILE", "RATE_LIMIT")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def service_env(overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """The caller's environment without anything that configures GPU Sentinel, plus ``overrides``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.upper().startswith("GPU_SENTINEL_") and key.upper() not in _SERVICE_ENV
    }
    env.update(overrides or {})
    return env


def http_get(port: int, path: str, timeout: float = 10.0) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def sentinel_command(gpus: int, port: int, data_dir: Path) -> list[str]:
    """``gpu-sentinel serve`` from the same virtualenv as the interpreter running the benchmark."""
    exe = Path(sys.executable).parent / "gpu-sentinel"
    if not exe.exists():
        raise SystemExit(
            f"{exe} not found: run the benchmark with the project's virtualenv (.venv/bin/python)"
        )
    return [
        str(exe),
        "serve",
        "--simulate",
        str(gpus),
        "--seed",
        "1",
        "--host",
        HOST,
        "--port",
        str(port),
        "--log-file",
        "",
        "--log-level",
        "warning",
        "--data-dir",
        str(data_dir),
    ]


def glances_command(port: int) -> list[str]:
    return [
        str(GLANCES_VENV / "bin" / "glances"),
        "-w",
        "--disable-webui",
        "--bind",
        HOST,
        "--port",
        str(port),
        "--disable-check-update",
        "--disable-autodiscover",
    ]


def ensure_glances_venv() -> Path:
    """Create ``bench/.work/glances-venv`` with Glances' web server from PyPI unless it is already there."""
    glances = GLANCES_VENV / "bin" / "glances"
    python = GLANCES_VENV / "bin" / "python"
    if glances.exists() and all(
        venv_versions(python, ["glances", "fastapi", "uvloop", "httptools"]).values()
    ):
        return glances
    log(f"installing {' '.join(GLANCES_REQUIREMENTS)} into {GLANCES_VENV.relative_to(REPO_ROOT)}")
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    if not python.exists():
        subprocess.run(["python3", "-m", "venv", str(GLANCES_VENV)], check=True)
    pip = [str(GLANCES_VENV / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, *GLANCES_REQUIREMENTS], check=True)
    return glances


def venv_versions(python: Path | str, packages: Sequence[str]) -> dict[str, str | None]:
    """Installed versions of ``packages`` as seen by another interpreter."""
    code = (
        "import importlib.metadata as m, json, sys\n"
        "out = {}\n"
        "for name in sys.argv[1:]:\n"
        "    try:\n"
        "        out[name] = m.version(name)\n"
        "    except m.PackageNotFoundError:\n"
        "        out[name] = None\n"
        "print(json.dumps(out))\n"
    )
    result = subprocess.run([str(python), "-c", code, *packages], capture_output=True, text=True, check=True)
    versions: dict[str, str | None] = json.loads(result.stdout)
    return versions


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def git_revision() -> str | None:
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return f"{rev}-dirty" if dirty else rev


def machine_info() -> dict[str, Any]:
    memory = psutil.virtual_memory()
    return {
        "logical_cores": psutil.cpu_count(logical=True),
        "physical_cores": psutil.cpu_count(logical=False),
        "cpu_model": cpu_model(),
        "memory_total_bytes": memory.total,
        "os": platform.platform(),
        "python": platform.python_version(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "git_revision": git_revision(),
    }


def shown_command(command: Any) -> list[str]:
    """A command line for the results files, with paths relative to the repository root."""
    if isinstance(command, (str, bytes)):
        command = [command]
    prefix = f"{REPO_ROOT}/"
    return [str(arg).replace(prefix, "") for arg in command]


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def write_json(path: Path, data: Mapping[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")


@dataclass
class Server:
    """A server process started by the benchmark, with its log file."""

    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    log_file: IO[bytes]
    ready_path: str
    ps: psutil.Process = field(init=False)

    def __post_init__(self) -> None:
        self.ps = psutil.Process(self.process.pid)

    def wait_ready(self, timeout: float) -> None:
        """Poll ``ready_path`` until it answers 200; fail early if the process died."""
        deadline = time.monotonic() + timeout
        last_error = "no answer"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}; see {self.log_path}")
            try:
                status, _ = http_get(self.port, self.ready_path, timeout=5.0)
            except OSError as exc:
                last_error = str(exc)
            else:
                if status == 200:
                    return
                last_error = f"HTTP {status}"
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not ready after {timeout:.0f} s ({last_error}); see {self.log_path}")

    def tree(self) -> list[psutil.Process]:
        """The server process and any children it started."""
        try:
            return [self.ps, *self.ps.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def cpu_seconds(self) -> float:
        total = 0.0
        for proc in self.tree():
            with contextlib.suppress(psutil.NoSuchProcess):
                times = proc.cpu_times()
                total += times.user + times.system
        return total

    def rss_bytes(self) -> int:
        total = 0
        for proc in self.tree():
            with contextlib.suppress(psutil.NoSuchProcess):
                total += proc.memory_info().rss
        return total

    def stop(self, grace: float = 10.0) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=grace)
        self.log_file.close()


class ServerPool:
    """Starts servers and guarantees they are all stopped, whatever happens to the benchmark."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.servers: list[Server] = []
        log_dir.mkdir(parents=True, exist_ok=True)

    def start(
        self,
        name: str,
        command: Sequence[str],
        port: int,
        ready_path: str,
        *,
        env: Mapping[str, str] | None = None,
        ready_timeout: float = 60.0,
    ) -> Server:
        log_path = self.log_dir / f"{name}.log"
        log_file = log_path.open("wb")
        log(f"starting {name} on {HOST}:{port}")
        process = subprocess.Popen(
            list(command),
            cwd=REPO_ROOT,
            env=dict(env) if env is not None else None,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        server = Server(name, port, process, log_path, log_file, ready_path)
        self.servers.append(server)
        server.wait_ready(ready_timeout)
        return server

    def close(self) -> None:
        while self.servers:
            server = self.servers.pop()
            try:
                server.stop()
            except Exception as exc:  # keep stopping the others
                log(f"could not stop {server.name}: {exc}")

    def __enter__(self) -> ServerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextlib.contextmanager
def terminate_on_sigterm() -> Iterator[None]:
    """Turn SIGTERM into SystemExit so that ``finally`` blocks stop the servers."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def require_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise SystemExit(f"{name} not found on PATH (Debian: apt-get install {name})")
    return path
