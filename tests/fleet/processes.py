"""Real ``gpu-sentinel serve`` processes that a fleet test can SIGKILL and start again with the same data
directory (so the same node id), on a port of their own."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

from tests.conftest import free_port
from tests.server import sentinel_command

# A node goes offline after three missed heartbeats (the default waits thirty), and stays online
# through the scheduling delays of a busy test machine.
FAST_FLEET = {
    "GPU_SENTINEL_FLEET_HEARTBEAT_S": "1.0",
    "GPU_SENTINEL_FLEET_ONLINE_WITHIN_S": "1.5",
    "GPU_SENTINEL_FLEET_OFFLINE_AFTER_S": "3.0",
}


class ServeProcess:
    """One ``serve`` process: ``start`` waits until its health check answers."""

    def __init__(self, name: str, data_dir: Path, args: Sequence[str], env: dict[str, str]) -> None:
        self.name = name
        self.data_dir = data_dir
        self.args = list(args)
        self.env = {**env, "GPU_SENTINEL_NODE_NAME": name}
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 30) -> ServeProcess:
        command = [*sentinel_command(), "serve", "--port", str(self.port), "--log-file", ""]
        command += ["--data-dir", str(self.data_dir), *self.args]
        log = (self.data_dir.parent / f"{self.name}.log").open("ab")
        self.process = subprocess.Popen(
            command, env={**os.environ, **self.env}, stdout=log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + timeout_s
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}; see {log.name}")
            try:
                if httpx.get(f"{self.url}/api/v1/health", timeout=1).status_code in (200, 503):
                    return self
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.name} did not answer within {timeout_s} s")
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL: no clean shutdown, no goodbye to the database."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
