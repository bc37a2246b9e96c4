"""Resident memory of ``gpu-sentinel serve --simulate 8`` after start-up and after minutes of sampling.

The service samples at its default 4 Hz while a light client polls ``/api/v1/system/monitoring/all`` twice
a second, the way an open dashboard would. RSS (psutil) is recorded at start-up and then every
``--every`` seconds so that any growth is visible; Glances' web server, polled the same way on
``/api/4/all``, is measured alongside for comparison (``--no-glances`` skips it).

Target: RSS <= 120 MB (10^6 bytes) for the whole run.

    .venv/bin/python bench/memory.py              # 10 minutes
    .venv/bin/python bench/memory.py --minutes 1  # a quick look
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from common import (
    GLANCES_ALL,
    GLANCES_VENV,
    HOST,
    MONITORING_ALL,
    RESULTS_DIR,
    WORK_DIR,
    Server,
    ServerPool,
    ensure_glances_venv,
    free_port,
    glances_command,
    log,
    machine_info,
    now_iso,
    sentinel_command,
    service_env,
    shown_command,
    terminate_on_sigterm,
    venv_versions,
    write_json,
)

TARGET_RSS_BYTES = 120_000_000
MB = 1_000_000


class Poller(threading.Thread):
    """GETs one path at a fixed rate over a keep-alive connection until stopped."""

    def __init__(self, port: int, path: str, rate_hz: float, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.path = path
        self.period = 1.0 / rate_hz
        self.stop_event = stop
        self.ok = 0
        self.errors = 0

    def run(self) -> None:
        conn: http.client.HTTPConnection | None = None
        deadline = time.monotonic()
        while not self.stop_event.is_set():
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(HOST, self.port, timeout=10.0)
                conn.request("GET", self.path)
                response = conn.getresponse()
                response.read()
                if response.status == 200:
                    self.ok += 1
                else:
                    self.errors += 1
            except (OSError, http.client.HTTPException):
                self.errors += 1
                if conn is not None:
                    conn.close()
                conn = None
            deadline += self.period
            self.stop_event.wait(max(0.0, deadline - time.monotonic()))
        if conn is not None:
            conn.close()


@dataclass
class Watched:
    server: Server
    poller: Poller
    samples: list[dict[str, Any]]


def sample(watched: Watched, elapsed: float) -> dict[str, Any]:
    rss = watched.server.rss_bytes()
    uss: int | None = None
    threads: int | None = None
    with contextlib.suppress(psutil.Error):
        uss = watched.server.ps.memory_full_info().uss
        threads = watched.server.ps.num_threads()
    return {
        "elapsed_s": round(elapsed, 1),
        "rss_bytes": rss,
        "uss_bytes": uss,
        "threads": threads,
        "requests_ok": watched.poller.ok,
        "request_errors": watched.poller.errors,
    }


def peak_rss_bytes(server: Server) -> int | None:
    """VmHWM: the highest RSS the process ever had, including moments between samples."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{server.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return None


def growth_per_hour(samples: list[dict[str, Any]]) -> float | None:
    """Least-squares slope of RSS over the second half of the run, in bytes per hour."""
    half = samples[len(samples) // 2 :]
    if len(half) < 3:
        return None
    xs = [s["elapsed_s"] for s in half]
    ys = [s["rss_bytes"] for s in half]
    mean_x = sum(xs) / len(xs)
    mean_y = sum(ys) / len(ys)
    var = sum((x - mean_x) ** 2 for x in xs)
    if var == 0:
        return None
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / var
    return slope * 3600


def summarise(name: str, watched: Watched) -> dict[str, Any]:
    samples = watched.samples
    rss = [s["rss_bytes"] for s in samples]
    return {
        "name": name,
        "command": shown_command(watched.server.process.args),
        "path_polled": watched.poller.path,
        "startup_rss_bytes": rss[0],
        "final_rss_bytes": rss[-1],
        "max_sampled_rss_bytes": max(rss),
        "peak_rss_bytes_vmhwm": peak_rss_bytes(watched.server),
        "growth_bytes": rss[-1] - rss[0],
        "second_half_growth_bytes_per_hour": growth_per_hour(samples),
        "requests_ok": watched.poller.ok,
        "request_errors": watched.poller.errors,
        "samples": samples,
    }


def mb(value: float | None) -> str:
    return "-" if value is None else f"{value / MB:.1f}"


def render_markdown(result: dict[str, Any]) -> str:
    ours = result["servers"]["gpu-sentinel"]
    glances = result["servers"].get("glances")
    machine = result["machine"]
    worst = max(ours["max_sampled_rss_bytes"], ours["peak_rss_bytes_vmhwm"] or 0)
    met = worst <= TARGET_RSS_BYTES
    lines = [
        "# Memory: resident set size over time",
        "",
        f"Run {result['started_at']} on {machine['cpu_model']} ({machine['logical_cores']} cores), "
        f"Python {machine['python']}, revision {machine['git_revision']}.",
        "",
        f"`gpu-sentinel serve --simulate {result['gpus']}` sampling at the default 4 Hz for "
        f"{result['minutes']:g} minutes while a client polls `{MONITORING_ALL}` "
        f"{result['poll_rate_hz']:g} times a second. MB = 10^6 bytes.",
        "",
        f"**Target RSS ≤ 120 MB: {'met' if met else 'NOT met'}** — start-up "
        f"{mb(ours['startup_rss_bytes'])} MB, after {result['minutes']:g} min "
        f"{mb(ours['final_rss_bytes'])} MB, peak (VmHWM) "
        f"{mb(ours['peak_rss_bytes_vmhwm'])} MB.",
        "",
        "| | start-up | end | growth | peak (VmHWM) | trend, 2nd half | requests |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, data in result["servers"].items():
        trend = data["second_half_growth_bytes_per_hour"]
        lines.append(
            f"| {name} | {mb(data['startup_rss_bytes'])} MB | {mb(data['final_rss_bytes'])} MB | "
            f"{data['growth_bytes'] / MB:+.1f} MB | {mb(data['peak_rss_bytes_vmhwm'])} MB | "
            f"{'-' if trend is None else f'{trend / MB:+.1f} MB/h'} | "
            f"{data['requests_ok']} ok, {data['request_errors']} errors |"
        )
    lines += ["", "RSS samples (MB):", ""]
    names = list(result["servers"])
    lines.append("| elapsed | " + " | ".join(names) + " |")
    lines.append("|---:|" + "---:|" * len(names))
    for i, s in enumerate(ours["samples"]):
        cells = [mb(s["rss_bytes"])]
        if glances is not None:
            other = glances["samples"][i] if i < len(glances["samples"]) else None
            cells.append(mb(other["rss_bytes"]) if other else "-")
        lines.append(f"| {s['elapsed_s']:.0f} s | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Glances is `glances -w --disable-webui` (its own defaults: stats refreshed at most every 2 s), "
        f"polled on `{GLANCES_ALL}` at the same rate."
        if glances is not None
        else "Glances was not measured in this run.",
        "",
        "RSS counts every resident page of the process, including shared libraries. A short run cannot tell "
        "a slow leak from caches that fill up and stop (SQLite's page cache, Python's allocator); "
        "`--minutes 120` shows which.",
        "",
        "Raw figures: `memory.json`. Re-run: `.venv/bin/python bench/memory.py`.",
        "",
    ]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> dict[str, Any]:
    result: dict[str, Any] = {
        "benchmark": "memory",
        "started_at": now_iso(),
        "machine": machine_info(),
        "gpus": args.gpus,
        "minutes": args.minutes,
        "sample_every_s": args.every,
        "poll_rate_hz": args.poll_rate,
        "target_rss_bytes": TARGET_RSS_BYTES,
    }
    stop = threading.Event()
    watched: dict[str, Watched] = {}
    with (
        terminate_on_sigterm(),
        tempfile.TemporaryDirectory(prefix="memory-", dir=WORK_DIR) as data_dir,
        ServerPool(WORK_DIR / "logs" / "memory") as pool,
    ):
        try:
            port = free_port()
            ours = pool.start(
                "gpu-sentinel",
                sentinel_command(args.gpus, port, Path(data_dir)),
                port,
                MONITORING_ALL,
                env=service_env(),
            )
            t0 = time.monotonic()
            starts = {"gpu-sentinel": t0}
            watched["gpu-sentinel"] = Watched(ours, Poller(port, MONITORING_ALL, args.poll_rate, stop), [])
            watched["gpu-sentinel"].samples.append(sample(watched["gpu-sentinel"], 0.0))
            watched["gpu-sentinel"].poller.start()
            if args.glances:
                ensure_glances_venv()
                gport = free_port()
                glances = pool.start("glances", glances_command(gport), gport, GLANCES_ALL)
                starts["glances"] = time.monotonic()
                watched["glances"] = Watched(glances, Poller(gport, GLANCES_ALL, args.poll_rate, stop), [])
                watched["glances"].samples.append(sample(watched["glances"], 0.0))
                watched["glances"].poller.start()
            total = args.minutes * 60.0
            marks = [args.every * k for k in range(1, int(total / args.every + 1e-9) + 1)]
            if not marks or marks[-1] < total - 1e-6:
                marks.append(total)
            for mark in marks:
                time.sleep(max(0.0, t0 + mark - time.monotonic()))
                for name, w in watched.items():
                    w.samples.append(sample(w, time.monotonic() - starts[name]))
                s = watched["gpu-sentinel"].samples[-1]
                log(f"{s['elapsed_s']:.0f} s: gpu-sentinel RSS {s['rss_bytes'] / MB:.1f} MB")
            result["servers"] = {name: summarise(name, w) for name, w in watched.items()}
        finally:
            stop.set()
            for w in watched.values():
                if w.poller.is_alive():
                    w.poller.join(timeout=15)
    versions = venv_versions(Path(sys.executable), ["gpu-sentinel", "fastapi", "uvicorn", "psutil"])
    result["versions"] = {"gpu-sentinel venv": versions}
    if args.glances:
        result["versions"]["glances venv"] = venv_versions(
            GLANCES_VENV / "bin" / "python", ["glances", "fastapi", "uvicorn", "psutil"]
        )
    result["finished_at"] = now_iso()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=10.0, help="how long to sample (default 10)")
    parser.add_argument("--every", type=float, default=30.0, help="seconds between RSS samples (default 30)")
    parser.add_argument("--gpus", type=int, default=8, help="simulated GPUs (default 8)")
    parser.add_argument("--poll-rate", type=float, default=2.0, help="client requests per second (default 2)")
    parser.add_argument("--no-glances", dest="glances", action="store_false", help="do not measure Glances")
    parser.add_argument("--output-dir", type=Path, default=RESULTS_DIR, help="where memory.{json,md} go")
    args = parser.parse_args()
    if args.every <= 0 or args.minutes <= 0:
        parser.error("--minutes and --every must be positive")
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    result = run(args)
    write_json(args.output_dir / "memory.json", result)
    (args.output_dir / "memory.md").write_text(render_markdown(result))
    log(f"wrote {args.output_dir / 'memory.json'} and memory.md")
    print(render_markdown(result))


if __name__ == "__main__":
    main()
