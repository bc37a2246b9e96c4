"""Latency and throughput of ``GET /api/v1/system/monitoring/all`` next to its peers, loaded by ``wrk``.

Servers, all on 127.0.0.1 and all running for the whole benchmark:

* ``glances``: Glances' REST API (``glances -w --disable-webui``, ``GET /api/4/all``) from its own
  virtualenv under ``bench/.work/`` (created from PyPI on first use);
* ``bare-Ngpu``: ``bench/bare_app.py``, a bare Starlette app served like ours, answering with a fixed body
  of exactly the size of our ``--simulate N`` answer: the practical ceiling of one Python server process;
* ``sentinel-Ngpu``: ``gpu-sentinel serve --simulate N`` (N = 1 and 8 by default).

Each server gets a warm-up run per connection count, then every measurement is repeated ``--repeats``
times, interleaved (repeat, then connection count, then server in a rotating order) so that background
noise on the machine hits all servers alike; the median of the repeats is reported.

Targets: p99 <= 10 ms at 10 connections; requests/s at 50 connections >= 10x Glances' and >= 70 % of the
bare app's.

    .venv/bin/python bench/http_latency.py
    .venv/bin/python bench/http_latency.py --duration 3 --repeats 1 --no-glances   # a quick look
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
    http_get,
    log,
    machine_info,
    now_iso,
    require_tool,
    sentinel_command,
    service_env,
    shown_command,
    terminate_on_sigterm,
    venv_versions,
    write_json,
)

P99_TARGET_MS = 10.0
GLANCES_RATIO_TARGET = 10.0
BARE_RATIO_TARGET = 0.70

# wrk calls done() once at the end of a run; this prints the exact figures as one JSON line.
WRK_REPORT = """\
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"duration_us": %d, "requests": %d, "bytes": %d, "errors_connect": %d, "errors_read": %d,'
    .. ' "errors_write": %d, "errors_status": %d, "errors_timeout": %d, "latency_mean_us": %.1f,'
    .. ' "latency_max_us": %d, "p50_us": %d, "p75_us": %d, "p90_us": %d, "p99_us": %d, "p999_us": %d}\\n',
    summary.duration, summary.requests, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency.max, latency:percentile(50), latency:percentile(75), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9)))
end
"""

SERVICE_PACKAGES = ["gpu-sentinel", "fastapi", "starlette", "uvicorn", "uvloop", "httptools", "orjson"]
# The service limits each client address to 10 requests/s (spec); a load generator is one address, so the
# limit is switched off here, as it would be for a fleet of dashboards that each stay under it.
SERVICE_OVERRIDES = {"GPU_SENTINEL_RATE_LIMIT": "0"}

GLANCES_PACKAGES = ["glances", "fastapi", "starlette", "uvicorn", "uvloop", "httptools", "psutil"]


@dataclass
class Target:
    name: str
    kind: str  # glances, bare or sentinel
    server: Server
    path: str
    gpus: int | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.server.port}{self.path}"


def run_wrk(
    wrk: str, script: Path, target: Target, *, connections: int, duration: float, args: argparse.Namespace
) -> dict[str, Any]:
    """One wrk run against ``target``; returns wrk's figures plus the server's CPU time over the run."""
    command = [
        wrk,
        f"--threads={min(args.threads, connections)}",
        f"--connections={connections}",
        f"--duration={max(1, round(duration))}s",
        f"--timeout={args.timeout}s",
        "--latency",
        f"--script={script}",
        target.url,
    ]
    cpu_before = target.server.cpu_seconds()
    started = time.monotonic()
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.monotonic() - started
    cpu = target.server.cpu_seconds() - cpu_before
    if completed.returncode != 0:
        raise RuntimeError(
            f"wrk failed against {target.name}: {completed.stderr.strip() or completed.stdout}"
        )
    line = next((ln for ln in completed.stdout.splitlines() if ln.startswith("WRK_JSON ")), None)
    if line is None:
        raise RuntimeError(f"no report from wrk against {target.name}:\n{completed.stdout}")
    stats: dict[str, Any] = json.loads(line.removeprefix("WRK_JSON "))
    seconds = stats["duration_us"] / 1e6
    stats["requests_per_s"] = stats["requests"] / seconds if seconds else 0.0
    stats["wire_bytes_per_response"] = (
        round(stats["bytes"] / stats["requests"]) if stats["requests"] else None
    )
    stats["server_cpu_s"] = round(cpu, 3)
    stats["server_cpu_us_per_request"] = (
        round(cpu / stats["requests"] * 1e6, 1) if stats["requests"] else None
    )
    stats["wall_s"] = round(wall, 2)
    stats["load_average_1m_after"] = round(os.getloadavg()[0], 2)
    return stats


def preflight(target: Target, count: int = 200) -> None:
    """Back-to-back requests on one connection must all succeed: a 429 would mean we measure refusals."""
    conn = http.client.HTTPConnection(HOST, target.server.port, timeout=30.0)
    try:
        for i in range(count):
            conn.request("GET", target.path)
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(
                    f"{target.name} answered HTTP {response.status} to request {i + 1} of a burst of "
                    f"{count}; is a rate limit or authentication in the way?"
                )
    finally:
        conn.close()


def body_sizes(target: Target, samples: int = 5) -> list[int]:
    """Body sizes of a few answers (ours vary a little as the numbers and the process list change)."""
    sizes = []
    for _ in range(samples):
        status, body = http_get(target.server.port, target.path, timeout=30.0)
        if status != 200:
            raise RuntimeError(f"{target.name} answered {status} on {target.path}")
        sizes.append(len(body))
        time.sleep(0.3)
    return sizes


def size_summary(sizes: list[int]) -> dict[str, int]:
    return {"median": int(statistics.median(sizes)), "min": min(sizes), "max": max(sizes)}


def summarise_runs(runs: list[dict[str, Any]]) -> dict[str, Any]:
    def med(key: str) -> float:
        return float(statistics.median(r[key] for r in runs))

    errors = sum(
        r[k]
        for r in runs
        for k in ("errors_connect", "errors_read", "errors_write", "errors_status", "errors_timeout")
    )
    cpu = [r["server_cpu_us_per_request"] for r in runs if r["server_cpu_us_per_request"] is not None]
    return {
        "requests_per_s": round(med("requests_per_s"), 1),
        "p50_ms": round(med("p50_us") / 1000, 3),
        "p99_ms": round(med("p99_us") / 1000, 3),
        "requests_per_s_range": [
            round(min(r["requests_per_s"] for r in runs), 1),
            round(max(r["requests_per_s"] for r in runs), 1),
        ],
        "p99_ms_range": [
            round(min(r["p99_us"] for r in runs) / 1000, 3),
            round(max(r["p99_us"] for r in runs) / 1000, 3),
        ],
        "server_cpu_us_per_request": round(statistics.median(cpu), 1) if cpu else None,
        "wire_bytes_per_response": round(med("wire_bytes_per_response")),
        "errors": errors,
        "runs": runs,
    }


def typical_body(port: int, wait: float) -> bytes:
    """One of our answers of the median size, once the slow metrics (processes, PCIe, ...) are in."""
    time.sleep(wait)
    bodies = []
    for _ in range(15):
        status, body = http_get(port, MONITORING_ALL)
        if status != 200:
            raise RuntimeError(f"gpu-sentinel answered {status} on {MONITORING_ALL}")
        bodies.append(body)
        time.sleep(0.2)
    bodies.sort(key=len)
    return bodies[len(bodies) // 2]


def start_servers(pool: ServerPool, args: argparse.Namespace, scratch: Path) -> list[Target]:
    """Our service for each GPU count, a bare app of the same answer size for each, and Glances."""
    targets: list[Target] = []
    if args.glances:
        ensure_glances_venv()
        port = free_port()
        glances = pool.start("glances", glances_command(port), port, GLANCES_ALL, ready_timeout=120.0)
        targets.append(Target("glances", "glances", glances, GLANCES_ALL))
    for gpus in args.gpus:
        port = free_port()
        data_dir = scratch / f"data-{gpus}"
        data_dir.mkdir()
        ours = pool.start(
            f"sentinel-{gpus}gpu",
            sentinel_command(gpus, port, data_dir),
            port,
            MONITORING_ALL,
            env=service_env(SERVICE_OVERRIDES),
        )
        payload = scratch / f"payload-{gpus}.json"
        payload.write_bytes(typical_body(port, args.slow_poll_wait))
        bare_port = free_port()
        bare = pool.start(
            f"bare-{gpus}gpu",
            [
                sys.executable,
                str(Path(__file__).with_name("bare_app.py")),
                "--payload",
                str(payload),
                "--port",
                str(bare_port),
            ],
            bare_port,
            MONITORING_ALL,
        )
        targets.append(Target(f"bare-{gpus}gpu", "bare", bare, MONITORING_ALL, gpus))
        targets.append(Target(f"sentinel-{gpus}gpu", "sentinel", ours, MONITORING_ALL, gpus))
    return targets


def schedule(targets: list[Target], turn: int) -> list[Target]:
    """The order of one round: Glances alone, and each of our servers right next to its bare twin.

    Groups rotate from round to round and each pair swaps places every other round, so no server is
    always first or last, and each ratio to the bare app compares two runs made one after the other.
    """
    groups: dict[int | None, list[Target]] = {}
    for t in targets:
        groups.setdefault(t.gpus, []).append(t)
    ordered = list(groups.values())
    shift = turn % len(ordered)
    ordered = ordered[shift:] + ordered[:shift]
    return [t for group in ordered for t in (reversed(group) if turn % 2 else group)]


def ratio(a: float, b: float) -> float | None:
    return round(a / b, 3) if b > 0 else None


def throughput_target(
    label: str, server: str, ours: dict[str, Any], peer: dict[str, Any], goal: float
) -> dict[str, Any]:
    """Requests/s of ours over a peer's: ratio of the medians, and the ratio within each repeat."""
    value = ratio(ours["requests_per_s"], peer["requests_per_s"])
    per_repeat = [
        ratio(a["requests_per_s"], b["requests_per_s"])
        for a, b in zip(ours["runs"], peer["runs"], strict=True)
    ]
    return {
        "target": label,
        "server": server,
        "goal": goal,
        "value": value,
        "per_repeat": per_repeat,
        "met": value is not None and value >= goal,
    }


def ratios(results: dict[str, dict[str, Any]], args: argparse.Namespace) -> list[dict[str, Any]]:
    """Each target of the issue, for each GPU count, with the figures it is judged on."""
    out: list[dict[str, Any]] = []
    low, high = str(min(args.connections)), str(max(args.connections))
    for gpus in args.gpus:
        name = f"sentinel-{gpus}gpu"
        ours = results[name]
        p99 = ours[low]["p99_ms"]
        out.append(
            {
                "target": f"p99 <= {P99_TARGET_MS:g} ms at {low} connections",
                "server": name,
                "goal": P99_TARGET_MS,
                "value": p99,
                "per_repeat": [round(r["p99_us"] / 1000, 3) for r in ours[low]["runs"]],
                # The same figure for the bare app in the same run: how much of it is the machine's doing.
                "bare_app_value": results[f"bare-{gpus}gpu"][low]["p99_ms"],
                "met": p99 <= P99_TARGET_MS,
            }
        )
        if "glances" in results:
            label = f"requests/s at {high} connections >= {GLANCES_RATIO_TARGET:g}x Glances'"
            out.append(
                throughput_target(label, name, ours[high], results["glances"][high], GLANCES_RATIO_TARGET)
            )
        label = f"requests/s at {high} connections >= {BARE_RATIO_TARGET:.0%} of the bare app's"
        bare = results[f"bare-{gpus}gpu"][high]
        target = throughput_target(label, name, ours[high], bare, BARE_RATIO_TARGET)
        # Less sensitive to other load on the machine: a one-process server's capacity is 1 / CPU per request.
        if ours[high]["server_cpu_us_per_request"] and bare["server_cpu_us_per_request"]:
            target["cpu_per_request_bare_over_ours"] = ratio(
                bare["server_cpu_us_per_request"], ours[high]["server_cpu_us_per_request"]
            )
        out.append(target)
    return out


def format_target(r: dict[str, Any]) -> str:
    def show(value: float | None) -> str:
        if value is None:
            return "n/a (peer served nothing)"
        if "ms" in r["target"]:
            return f"{value:.2f} ms"
        return f"{value:.0%}" if "%" in r["target"] else f"{value:.1f}x"

    text = show(r["value"])
    repeats = [v for v in r.get("per_repeat", []) if v is not None]
    if repeats:
        text += f" (repeats {show(min(repeats))} to {show(max(repeats))})"
    if r.get("bare_app_value") is not None:
        text += f"; bare app {show(r['bare_app_value'])}"
    cpu = r.get("cpu_per_request_bare_over_ours")
    if cpu is not None:
        text += f"; by CPU per request {cpu:.0%}"
    return text


def render_markdown(result: dict[str, Any]) -> str:
    machine = result["machine"]
    settings = result["settings"]
    conns = settings["connections"]
    glances_version = result["versions"].get("glances venv", {}).get("glances", "-")
    lines = [
        "# HTTP latency and throughput: `GET /api/v1/system/monitoring/all`",
        "",
        f"Run {result['started_at']} on {machine['cpu_model']}, {machine['logical_cores']} cores (shared by "
        f"server and load generator), Python {machine['python']}, revision {machine['git_revision']}; "
        f"1-minute load average {machine['load_average_at_start'][0]} at start and "
        f"{machine.get('load_average_at_end', ['-'])[0]} at the end (other work shared the machine). Glances "
        f"{glances_version}, "
        f"FastAPI {result['versions']['service venv']['fastapi']}, "
        f"uvicorn {result['versions']['service venv']['uvicorn']}.",
        "",
        f"`wrk` ({result['wrk_version']}), {settings['threads']} thread, "
        f"{settings['duration_s']:g} s per run after a {settings['warmup_s']:g} s warm-up; "
        f"each figure is the median of {settings['repeats']} interleaved repeats.",
        "",
        "## Targets",
        "",
        "| target | server | value | met |",
        "|---|---|---:|---|",
    ]
    for r in result["targets"]:
        lines.append(
            f"| {r['target']} | {r['server']} | {format_target(r)} | {'yes' if r['met'] else '**no**'} |"
        )
    failed = {name: sum(data[str(c)]["errors"] for c in conns) for name, data in result["results"].items()}
    if any(failed.values()):
        lines += [
            "",
            "**Warning:** some requests failed (socket errors or non-2xx answers), which makes those figures "
            "meaningless: " + ", ".join(f"{name} {n}" for name, n in failed.items() if n) + ".",
        ]
    lines += [
        "",
        "## Figures",
        "",
        "| server | conns | requests/s | p50 | p99 | server CPU per request | body bytes | wire bytes "
        "| errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, data in result["results"].items():
        for c in conns:
            d = data[str(c)]
            lo, hi = d["requests_per_s_range"]
            cpu = d["server_cpu_us_per_request"]
            lines.append(
                f"| {name} | {c} | {d['requests_per_s']:,.0f} ({lo:,.0f}-{hi:,.0f}) | {d['p50_ms']:.2f} ms | "
                f"{d['p99_ms']:.2f} ms | {'-' if cpu is None else f'{cpu:,.0f} µs'} | "
                f"{data['response_body_bytes']['median']:,} | {d['wire_bytes_per_response']:,} | "
                f"{d['errors']} |"
            )
    lines += [
        "",
        "Requests/s shows the median and, in brackets, the range of the repeats; the ratios to the bare app "
        "are also given within each repeat (the two runs are made one after the other) and by server CPU "
        "time per request, which other load on the machine disturbs much less. Server CPU per request is "
        "the server process's user+system time during the run divided by the requests served. Body bytes is "
        "the median size of the JSON answer; wire bytes is what wrk read per response, headers included.",
        "",
        "Setup: Glances runs with its defaults (`glances -w --disable-webui`, statistics refreshed at "
        "most every 2 s, so most requests serialise cached statistics) on the same uvicorn, uvloop and "
        "httptools as ours. The bare app (`bench/bare_app.py`) returns a byte-for-byte copy of one of our "
        "answers, served with the same uvicorn settings as `gpu-sentinel serve`. All servers run for the "
        "whole benchmark, so their background sampling costs the same to every measurement. Our service runs "
        "with its per-client rate limit switched off (`GPU_SENTINEL_RATE_LIMIT=0`): wrk is a single client "
        "address and would otherwise be answered with 429s. wrk measures "
        "from the send of each request (no correction for coordinated omission).",
        "",
        "Raw figures: `http_latency.json`. Re-run: `.venv/bin/python bench/http_latency.py`.",
        "",
    ]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> dict[str, Any]:
    wrk = require_tool("wrk")
    wrk_version = subprocess.run([wrk, "-v"], capture_output=True, text=True, check=False).stdout.split(
        " Copyright"
    )[0]
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    script = WORK_DIR / "wrk_report.lua"
    script.write_text(WRK_REPORT)
    result: dict[str, Any] = {
        "benchmark": "http_latency",
        "started_at": now_iso(),
        "machine": machine_info(),
        "wrk_version": wrk_version.strip(),
        "settings": {
            "connections": args.connections,
            "threads": args.threads,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "repeats": args.repeats,
            "timeout_s": args.timeout,
            "gpus": args.gpus,
        },
    }
    runs: dict[tuple[str, int], list[dict[str, Any]]] = {}
    with (
        terminate_on_sigterm(),
        tempfile.TemporaryDirectory(prefix="http-", dir=WORK_DIR) as scratch,
        ServerPool(WORK_DIR / "logs" / "http_latency") as pool,
    ):
        targets = start_servers(pool, args, Path(scratch))
        for t in targets:
            if t.kind != "glances":
                preflight(t)
        sizes = {t.name: body_sizes(t) for t in targets}
        for c in args.connections:
            for t in targets:
                log(f"warm-up {t.name}, {c} connections")
                run_wrk(wrk, script, t, connections=c, duration=args.warmup, args=args)
        for rep in range(args.repeats):
            for c in args.connections:
                for t in schedule(targets, rep + args.connections.index(c)):
                    stats = run_wrk(wrk, script, t, connections=c, duration=args.duration, args=args)
                    stats["repeat"] = rep + 1
                    runs.setdefault((t.name, c), []).append(stats)
                    log(
                        f"repeat {rep + 1}, {c:>3} conns, {t.name:<14} "
                        f"{stats['requests_per_s']:>9,.0f} req/s  "
                        f"p50 {stats['p50_us'] / 1000:7.2f} ms  p99 {stats['p99_us'] / 1000:7.2f} ms"
                    )
        for t in targets:
            if t.kind == "sentinel":
                sizes[t.name] += body_sizes(t)
        result["results"] = {
            t.name: {
                "kind": t.kind,
                "gpus": t.gpus,
                "url_path": t.path,
                "command": shown_command(t.server.process.args),
                "response_body_bytes": size_summary(sizes[t.name]),
                **{str(c): summarise_runs(runs[(t.name, c)]) for c in args.connections},
            }
            for t in targets
        }
    result["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    result["versions"] = {"service venv": venv_versions(sys.executable, SERVICE_PACKAGES)}
    if args.glances:
        result["versions"]["glances venv"] = venv_versions(GLANCES_VENV / "bin" / "python", GLANCES_PACKAGES)
    result["targets"] = ratios(result["results"], args)
    result["finished_at"] = now_iso()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measured run (default 10)")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of warm-up per server and load")
    parser.add_argument(
        "--repeats", type=int, default=3, help="measured runs per server and load (default 3)"
    )
    parser.add_argument("--connections", type=int, nargs="+", default=[10, 50], help="default: 10 50")
    parser.add_argument(
        "--threads", type=int, default=1, help="wrk threads (default 1: the server needs a core)"
    )
    parser.add_argument("--timeout", type=int, default=10, help="wrk request timeout in seconds (default 10)")
    parser.add_argument(
        "--gpus", type=int, nargs="+", default=[1, 8], help="simulated GPU counts (default: 1 8)"
    )
    parser.add_argument(
        "--slow-poll-wait",
        type=float,
        default=3.0,
        help="seconds to let our service reach its steady answer before copying it for the bare app",
    )
    parser.add_argument("--no-glances", dest="glances", action="store_false", help="leave Glances out")
    parser.add_argument(
        "--output-dir", type=Path, default=RESULTS_DIR, help="where http_latency.{json,md} go"
    )
    args = parser.parse_args()
    if args.repeats < 1 or args.duration < 1:
        parser.error("--repeats and --duration must be at least 1")
    args.connections = sorted(set(args.connections))
    result = run(args)
    write_json(args.output_dir / "http_latency.json", result)
    markdown = render_markdown(result)
    (args.output_dir / "http_latency.md").write_text(markdown)
    log(f"wrote {args.output_dir / 'http_latency.json'} and http_latency.md")
    print(markdown)


if __name__ == "__main__":
    main()
