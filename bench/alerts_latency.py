"""Time from the snapshot that satisfies a rule to the webhook's arrival at a local receiver, minus the
rule's ``for``: the whole path (sampler callback, alert worker, transaction with the outbox row, delivery
thread, HTTP) with snapshots fed at the sampler's 4 Hz. Also the resolve notification's latency.

    .venv/bin/python bench/alerts_latency.py     # writes bench/results/alerts.{json,md}
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "src"))

from bench.alerts_results import save  # noqa: E402

from gpu_sentinel.alerts.channels import ChannelSpec  # noqa: E402
from gpu_sentinel.alerts.manager import AlertManager  # noqa: E402
from gpu_sentinel.alerts.rules import RuleSpec, RuleUpdate  # noqa: E402
from gpu_sentinel.config import Settings  # noqa: E402
from gpu_sentinel.snapshot import GPUInfo, GPUSample, HostSample, Snapshot  # noqa: E402

INTERVAL_S = 0.25
FOR_S = 1.0


class Receiver:
    def __init__(self) -> None:
        self.arrivals: list[tuple[str, float]] = []
        self.cond = threading.Condition()

    def got(self, body: dict[str, Any]) -> None:
        with self.cond:
            self.arrivals.append((body["status"], time.time()))
            self.cond.notify_all()

    def wait(self, count: int, timeout_s: float = 10) -> float:
        with self.cond:
            if not self.cond.wait_for(lambda: len(self.arrivals) >= count, timeout_s):
                raise TimeoutError("webhook did not arrive")
            return self.arrivals[count - 1][1]


def serve(receiver: Receiver) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            receiver.got(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def snapshot(seq: int, temperature: float) -> Snapshot:
    sample = GPUSample(info=GPUInfo(index=0, name="bench"), temperature_c=temperature)
    return Snapshot(seq, time.time(), True, (sample,), HostSample(hostname="bench"))


def feed_until(manager: AlertManager, temperature: float, deadline: float, seq: list[int]) -> float:
    """Feed snapshots at the sampler's cadence; returns the time of the first one."""
    first = time.time()
    while time.time() < deadline:
        seq[0] += 1
        manager.ingest(snapshot(seq[0], temperature))
        time.sleep(INTERVAL_S)
    return first


def keep_hot(manager: AlertManager, stop: threading.Event, seq: list[int]) -> None:
    while not stop.wait(INTERVAL_S):
        seq[0] += 1
        manager.ingest(snapshot(seq[0], 95.0))


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    receiver = Receiver()
    server = serve(receiver)
    with tempfile.TemporaryDirectory() as directory:
        settings = Settings(data_dir=Path(directory), log_file=None, alert_cooldown_minutes=0)
        manager = AlertManager.from_settings(settings)
        manager.start()
        for rule in manager.config.rules():
            manager.config.update_rule(rule.id, RuleUpdate(enabled=False))
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        manager.config.create_channel(ChannelSpec(name="hook", type="webhook", url=url, secret="bench"))
        manager.config.create_rule(
            RuleSpec(
                id="hot", name="Hot", metric="gpu.temperature_c", threshold=85, for_s=FOR_S, channels=["hook"]
            )
        )
        fire, resolve, seq = [], [], [0]
        for run in range(args.runs):
            feed_until(manager, 60.0, time.time() + 0.5, seq)
            seq[0] += 1
            hot_at = time.time()
            manager.ingest(snapshot(seq[0], 95.0))
            stop = threading.Event()
            feeder = threading.Thread(target=keep_hot, args=(manager, stop, seq))
            feeder.start()
            arrived = receiver.wait(2 * run + 1)
            stop.set()
            feeder.join()
            fire.append(arrived - hot_at - FOR_S)
            seq[0] += 1
            cool_at = time.time()
            manager.ingest(snapshot(seq[0], 60.0))
            resolve.append(receiver.wait(2 * run + 2) - cool_at)
        manager.stop()
    server.shutdown()
    measures = {
        "firing: arrival - (hot snapshot + for)": fire,
        "resolved: arrival - cool snapshot": resolve,
    }
    summary = {
        name: {
            "median_ms": statistics.median(values) * 1e3,
            "p99_ms": percentile(values, 99) * 1e3,
            "max_ms": max(values) * 1e3,
        }
        for name, values in measures.items()
    }
    for name, row in summary.items():
        print(name, row)
    save(
        "latency",
        {
            "for_s": FOR_S,
            "interval_s": INTERVAL_S,
            "runs": args.runs,
            "measures": summary,
            "notes": "The firing figure includes up to one sampling interval of quantisation: `for` is "
            "checked on each snapshot, so the alert fires on the first snapshot at least `for` after the "
            "first hot one. Every notification is committed to the outbox before it is sent.",
        },
    )


if __name__ == "__main__":
    main()
