"""Peer GPU monitors (nvitop, gpustat) for the sampler benchmarks, each in its own virtualenv.

They load the fake ``libnvidia-ml.so`` through ``LD_LIBRARY_PATH`` exactly like our service, so every
tool reads the same fake GPUs and the library's own call counter measures each of them the same way.
Each peer gets its own environment under ``bench/.work/`` because they pin different nvidia-ml-py ranges;
none of them is a project dependency.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WORK = REPO / "bench" / ".work"
PEERS = {
    "nvitop": ("nvitop==1.7.2",),
    "gpustat": ("gpustat==1.1.1", "nvidia-ml-py"),
}

# Shared by every probe: the fake library's count of NVML calls served, read through ctypes.
CALL_COUNTER = textwrap.dedent(
    """
    import ctypes
    _fake = ctypes.CDLL("libnvidia-ml.so.1")
    _fake.fakenvml_call_count.restype = ctypes.c_ulonglong
    def nvml_calls():
        return _fake.fakenvml_call_count()
    """
)

# nvitop's own API: a snapshot of every device plus a snapshot of each of its processes, which is what
# its monitor shows at each refresh.
NVITOP_QUERY = textwrap.dedent(
    """
    from nvitop import Device
    devices = Device.all()
    def query():
        snapshots = [device.as_snapshot() for device in devices]
        processes = [p.as_snapshot() for device in devices for p in device.processes().values()]
        return len(snapshots), processes
    """
)

# The same with each GPU's MIG devices, as nvitop's monitor shows them on a GPU in MIG mode.
NVITOP_MIG_QUERY = textwrap.dedent(
    """
    from nvitop import Device
    devices = Device.all()
    def query():
        snapshots = [device.as_snapshot() for device in devices]
        snapshots += [mig.as_snapshot() for device in devices for mig in device.mig_devices()]
        processes = [p.as_snapshot() for device in devices for p in device.processes().values()]
        return len(devices), processes
    """
)

GPUSTAT_QUERY = textwrap.dedent(
    """
    import gpustat
    def query():
        return len(gpustat.new_query().gpus), None
    """
)

# Times ``query()`` at the sampler's 4 Hz pacing (so per-call caches behave as they would in a monitor).
PEER_PROBE = textwrap.dedent(
    """
    import json, statistics, sys, time
    queries, pause_s = int(sys.argv[1]), float(sys.argv[2])
    gpus, _ = query()
    calls, cpu, wall = [], [], []
    for _ in range(queries):
        time.sleep(pause_s)
        before, cpu_before, wall_before = nvml_calls(), time.process_time(), time.perf_counter()
        query()
        wall.append(time.perf_counter() - wall_before)
        cpu.append(time.process_time() - cpu_before)
        calls.append(nvml_calls() - before)
    print(json.dumps({
        "gpus": gpus,
        "nvml_calls_per_gpu_per_query": statistics.median(calls) / gpus,
        "query_ms_median": statistics.median(wall) * 1e3,
        "query_ms_p99": sorted(wall)[min(len(wall) - 1, int(len(wall) * 0.99))] * 1e3,
        "query_cpu_ms_median": statistics.median(cpu) * 1e3,
    }))
    """
)


def ensure_peer(name: str) -> Path | None:
    """The peer's virtualenv python, installing it on first use; None when it cannot be installed."""
    venv = WORK / f"{name}-venv"
    python = venv / "bin" / "python"
    if not python.exists():
        WORK.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    try:
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", *PEERS[name]], check=True, capture_output=True
        )
    except subprocess.CalledProcessError as exc:
        print(f"{name} unavailable: {exc.stderr.decode()[-500:]}", file=sys.stderr)
        return None
    return python


def peer_version(python: Path, name: str) -> str:
    code = f"import importlib.metadata as m; print(m.version({name!r}))"
    return subprocess.run(
        [str(python), "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()


def run_peer(
    python: Path, name: str, env: dict[str, str], queries: int, pause_s: float, *, query: str | None = None
) -> dict[str, float]:
    """Time the peer's usual query, or ``query`` (a script defining ``query()``) in its environment."""
    query = query or {"nvitop": NVITOP_QUERY, "gpustat": GPUSTAT_QUERY}[name]
    return run_probe(str(python), CALL_COUNTER + query + PEER_PROBE, env, str(queries), str(pause_s))


def run_probe(python: str, probe: str, env: dict[str, str], *args: str) -> dict[str, float]:
    """Run ``probe`` in a child process under ``env``; its last line of output is a JSON object."""
    output = subprocess.run(
        [python, "-c", probe, *args],
        env={**os.environ, **env},
        check=True,
        capture_output=True,
        text=True,
        cwd=REPO,
    ).stdout
    result: dict[str, float] = json.loads(output.strip().splitlines()[-1])
    return result
