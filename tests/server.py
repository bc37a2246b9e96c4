"""Runs a real ``gpu-sentinel serve`` process for end-to-end tests, and stops it afterwards."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.conftest import free_port


def sentinel_command() -> list[str]:
    script = shutil.which("gpu-sentinel", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "gpu_sentinel"]


@contextmanager
def running_server(
    args: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    port: int | None = None,
    timeout_s: float = 20,
) -> Iterator[str]:
    """Start the service on a free port and yield its base URL once /api/v1/health answers.

    Unless the caller names a data directory, the service gets a fresh one, so no run sees another's
    rules, users or history."""
    with tempfile.TemporaryDirectory(prefix="gpu-sentinel-test-") as scratch:
        chosen = {"GPU_SENTINEL_DATA_DIR", "XDG_DATA_HOME"} & set(env or {})
        if "--data-dir" not in args and not chosen:
            args = ["--data-dir", scratch, *args]
        with _serve(args, env=env, port=port, timeout_s=timeout_s) as base_url:
            yield base_url


@contextmanager
def _serve(
    args: Sequence[str], *, env: Mapping[str, str] | None, port: int | None, timeout_s: float
) -> Iterator[str]:
    port = port or free_port()
    command = [*sentinel_command(), "serve", "--port", str(port), "--log-file", "", *args]
    process = subprocess.Popen(
        command,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if process.poll() is not None:
                output = process.stdout.read() if process.stdout else ""
                raise RuntimeError(f"gpu-sentinel exited with {process.returncode}:\n{output}")
            try:
                if httpx.get(f"{base_url}/api/v1/health", timeout=1).status_code in (200, 503):
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"gpu-sentinel did not answer on {base_url} within {timeout_s} s")
            time.sleep(0.1)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
