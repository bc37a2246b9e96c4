"""Screenshots of the dashboard's main views for docs/ (not a test).

    .venv/bin/python -m tests.e2e.screenshots [--url http://127.0.0.1:5500] [--out docs]

Without --url it starts ``gpu-sentinel serve --simulate 4`` (its last GPU in MIG mode) and lets it collect
a minute of history, then a hub with three simulated nodes on the local PostgreSQL for the Fleet page.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.e2e.conftest import VIEWPORT, launch_chromium
from tests.e2e.test_live_and_alerts import ADMIN, ADMIN_PASSWORD, add_admin
from tests.fleet.processes import FAST_FLEET, ServeProcess
from tests.server import running_server
from tests.store.helpers import fresh_schema

SHOTS = [
    # (file, view, theme, path)
    ("dashboard-single-dark.png", "single", "dark", "/"),
    ("dashboard-single-light.png", "single", "light", "/"),
    ("dashboard-compare-dark.png", "compare", "dark", "/"),
    ("dashboard-compare-light.png", "compare", "light", "/"),
    ("usage-dark.png", "single", "dark", "/usage"),
    ("processes-dark.png", "single", "dark", "/processes"),
    ("alerts-dark.png", "single", "dark", "/alerts"),
]
FLEET_SHOT = ("fleet-dark.png", "single", "dark", "/fleet")
FLEET_NODES = {"gpu01": ["--simulate", "8"], "gpu02": ["--simulate", "4", "--simulate-mig", "2"]}
FLEET_NODES["gpu03"] = ["--simulate", "2", "--simulate-lost-gpu"]
# Rules that make the alerts page show what it does: one firing on every GPU, one still quiet.
DEMO_RULES = [
    {
        "id": "gpu-warm",
        "name": "GPU warm",
        "metric": "gpu.temperature_c",
        "condition": ">",
        "threshold": 30,
        "clear_threshold": 28,
        "for": "10s",
        "severity": "warning",
    },
    {
        "id": "host-busy",
        "name": "Host CPU busy",
        "metric": "host.cpu_pct",
        "condition": ">=",
        "threshold": 95,
        "for": "5m",
        "severity": "info",
        "enabled": False,
    },
]


@contextmanager
def server(url: str | None, warmup_s: float) -> Iterator[str]:
    if url:
        yield url
        return
    with tempfile.TemporaryDirectory() as data_dir:
        add_admin(Path(data_dir))
        args = ["--simulate", "4", "--simulate-mig", "1", "--seed", "11", "--data-dir", data_dir]
        with running_server(args) as started:
            session = sign_in(started)
            for rule in DEMO_RULES:
                headers = {"Authorization": f"Bearer {session['accessToken']}"}
                httpx.post(f"{started}/api/v1/alerts/rules", json=rule, headers=headers).raise_for_status()
            time.sleep(warmup_s)
            yield started


@contextmanager
def fleet_server(warmup_s: float) -> Iterator[str]:
    """A hub and three simulated nodes (one with MIG GPUs, one losing a GPU) on a fresh PostgreSQL schema."""
    with tempfile.TemporaryDirectory() as work, fresh_schema() as database_url:
        env = {**FAST_FLEET, "DATABASE_URL": database_url}
        hub = ServeProcess("hub", Path(work) / "hub", ["--hub", "--no-gpu"], env)
        nodes = [
            ServeProcess(name, Path(work) / name, [*args, "--seed", str(seed)], env)
            for seed, (name, args) in enumerate(FLEET_NODES.items())
        ]
        try:
            with ThreadPoolExecutor(max_workers=4) as pool:
                list(pool.map(lambda process: process.start(timeout_s=120), (hub, *nodes)))
            time.sleep(warmup_s)
            yield hub.url
        finally:
            for process in (hub, *nodes):
                process.stop()


def shoot(url: str, shots: list[tuple[str, str, str, str]], out: Path, signed_in: bool) -> None:
    for browser in launch_chromium():
        for name, view, theme, path in shots:
            context = browser.new_context(viewport=VIEWPORT, color_scheme=theme)
            page = context.new_page()
            settings = {"state": {"viewMode": view, "theme": theme, "timeRange": "1h"}, "version": 1}
            page.add_init_script(
                f"localStorage.setItem('gpu-sentinel.settings', {json.dumps(json.dumps(settings))})"
            )
            if path == "/alerts" and signed_in:
                session = json.dumps(json.dumps(sign_in(url)))
                page.add_init_script(f"localStorage.setItem('gpu-sentinel.session', {session})")
            page.goto(url + path)
            page.wait_for_timeout(6000)
            page.screenshot(path=str(out / name), full_page=True)
            context.close()
            print(out / name)


def sign_in(url: str) -> dict[str, object]:
    """Tokens in the shape the dashboard keeps them (web/src/auth/session.ts)."""
    response = httpx.post(f"{url}/api/v1/auth/login", json={"username": ADMIN, "password": ADMIN_PASSWORD})
    response.raise_for_status()
    body = response.json()
    now_ms = time.time() * 1000
    return {
        "accessToken": body["access_token"],
        "refreshToken": body["refresh_token"],
        "accessExpiresAt": now_ms + body["expires_in"] * 1000,
        "refreshExpiresAt": now_ms + body["refresh_expires_in"] * 1000,
        "username": body["username"],
        "role": body["role"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="an already running gpu-sentinel")
    parser.add_argument("--out", type=Path, default=Path("docs"))
    parser.add_argument("--warmup", type=float, default=60.0, help="seconds of history to collect first")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with server(args.url, args.warmup) as url:
        shoot(url, SHOTS, args.out, signed_in=not args.url)
    if not args.url:
        with fleet_server(min(args.warmup, 20.0)) as hub_url:
            shoot(hub_url, [FLEET_SHOT], args.out, signed_in=False)


if __name__ == "__main__":
    main()
