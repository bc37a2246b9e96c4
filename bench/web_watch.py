"""What watching the dashboard costs the browser: main-thread busy % and layouts per second.

Opens the dashboard of a real ``gpu-sentinel serve --simulate 8`` in headless Chromium (Debian's package),
switches it to compare view at 0.5 s updates through its own controls, then reads Chromium's performance
counters (CDP ``Performance.getMetrics``: ``TaskDuration``, ``LayoutCount``) before and after watching for
``--seconds`` (30 by default). Busy % is main-thread task time over wall time. Scenarios: default motion
and ``prefers-reduced-motion: reduce``. Goal: at most 10 % busy with default motion.

First data after navigation: milliseconds from the navigation's start to the first GPU on screen, taken
in the page by a mutation observer (so Playwright's polling adds nothing): once cold (a fresh browser
profile: nothing cached, no service worker) and on reloads, where the service worker serves the shell.

Results are kept per ``--label`` (e.g. ``before`` / ``after`` a change) in bench/results/web_watch.{json,md}.

    .venv/bin/python bench/web_watch.py --label after [--seconds 30]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.e2e.conftest import CHROMIUM, VIEWPORT, launch_chromium  # noqa: E402
from tests.server import running_server  # noqa: E402

RESULTS = ROOT / "bench" / "results"
GPUS = 8
GOAL_BUSY_PCT = 10.0
SCENARIOS = [("default motion", "no-preference"), ("reduced motion", "reduce")]


def counters(session: Any) -> dict[str, float]:
    metrics = session.send("Performance.getMetrics")["metrics"]
    return {metric["name"]: float(metric["value"]) for metric in metrics}


def watch(browser: Any, url: str, reduced_motion: str, seconds: float) -> dict[str, float]:
    context = browser.new_context(viewport=VIEWPORT, color_scheme="dark", reduced_motion=reduced_motion)
    try:
        page = context.new_page()
        page.goto(url)
        page.get_by_test_id("view-mode-toggle").get_by_role("button", name="Compare").click()
        page.get_by_test_id("gpu-card").nth(GPUS - 1).wait_for()
        page.get_by_test_id("open-settings").click()
        page.get_by_test_id("settings-modal").get_by_label("0.5 s").check()
        page.get_by_test_id("settings-modal").get_by_role("button", name="Save").click()
        page.get_by_test_id("live-indicator").filter(has_text="0.5 s").wait_for()
        page.wait_for_timeout(3000)  # charts created, history filled in
        session = context.new_cdp_session(page)
        session.send("Performance.enable", {"timeDomain": "timeTicks"})
        start = counters(session)
        started = time.monotonic()
        page.wait_for_timeout(seconds * 1000)
        end = counters(session)
        elapsed = time.monotonic() - started
        return {
            "seconds": round(elapsed, 2),
            "busy_pct": round(100 * (end["TaskDuration"] - start["TaskDuration"]) / elapsed, 1),
            "script_pct": round(100 * (end["ScriptDuration"] - start["ScriptDuration"]) / elapsed, 1),
            "layouts_per_s": round((end["LayoutCount"] - start["LayoutCount"]) / elapsed, 1),
            "style_recalcs_per_s": round((end["RecalcStyleCount"] - start["RecalcStyleCount"]) / elapsed, 1),
        }
    finally:
        context.close()


RELOADS = 5
FIRST_GPU_SHOWN = """
new MutationObserver((_, observer) => {
  if (document.querySelector('[data-testid=single-gpu-title]')) {
    window.__firstGpuShownMs = performance.now();
    observer.disconnect();
  }
}).observe(document, { childList: true, subtree: true });
"""


def first_data(browser: Any, url: str) -> dict[str, float]:
    """Cold: a fresh profile's first load. Warm: the median of ``RELOADS`` reloads once the service
    worker controls the page."""
    context = browser.new_context(viewport=VIEWPORT, color_scheme="dark")
    context.add_init_script(FIRST_GPU_SHOWN)
    try:
        page = context.new_page()

        def shown_ms() -> float:
            page.get_by_test_id("single-gpu-title").wait_for()
            return float(page.evaluate("window.__firstGpuShownMs"))

        page.goto(url)
        cold = shown_ms()
        page.wait_for_function("navigator.serviceWorker.controller !== null")
        warm = []
        for _ in range(RELOADS):
            page.reload()
            warm.append(shown_ms())
        return {"cold_ms": round(cold, 1), "warm_ms": round(sorted(warm)[len(warm) // 2], 1)}
    finally:
        context.close()


def run(seconds: float) -> dict[str, Any]:
    scenarios: dict[str, dict[str, float]] = {}
    with running_server(["--simulate", str(GPUS), "--seed", "5"]) as url:
        for browser in launch_chromium():
            for name, reduced_motion in SCENARIOS:
                scenarios[name] = watch(browser, url, reduced_motion, seconds)
            navigation = first_data(browser, url)
    chromium = subprocess.run([str(CHROMIUM), "--version"], capture_output=True, text=True, check=False)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT, check=False
    )
    return {
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "commit": commit.stdout.strip(),
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "browser": chromium.stdout.strip(),
            # The machine may be shared: its load says how far to trust a run.
            "load_avg_1m": round(os.getloadavg()[0], 2),
        },
        "setup": {"gpus": GPUS, "view": "compare", "interval_s": 0.5, "viewport": VIEWPORT},
        "scenarios": scenarios,
        "first_data": navigation,
    }


def markdown(results: dict[str, Any]) -> str:
    lines = [
        "# What watching the dashboard costs",
        "",
        f"{GPUS} simulated GPUs, compare view, 0.5 s updates, {VIEWPORT['width']}x{VIEWPORT['height']}, "
        "headless Chromium; CDP `Performance.getMetrics` over the watch. "
        f"Goal: main thread ≤ {GOAL_BUSY_PCT:.0f} % busy.",
        "",
        "| run | commit | when | load (1 min) | scenario | busy % | script % | layouts/s | style recalcs/s |",
        "| --- | --- | --- | ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    for label, result in results.items():
        for name, s in result["scenarios"].items():
            load = result["machine"].get("load_avg_1m", "n/a")
            lines.append(
                f"| {label} | {result['commit']} | {result['when']} | {load} | {name} | {s['busy_pct']} | "
                f"{s['script_pct']} | {s['layouts_per_s']} | {s['style_recalcs_per_s']} |"
            )
    navigations = [(label, r["commit"], r["first_data"]) for label, r in results.items() if "first_data" in r]
    if navigations:
        lines += [
            "",
            "First data after navigation (ms from the navigation's start to the first GPU on screen):",
            "",
            f"| run | commit | cold: fresh profile | warm: reload, service worker (median of {RELOADS}) |",
            "| --- | --- | ---: | ---: |",
        ]
        lines += [
            f"| {label} | {commit} | {n['cold_ms']} | {n['warm_ms']} |" for label, commit, n in navigations
        ]
    any_result = next(iter(results.values()))
    machine = any_result["machine"]
    lines += ["", f"Machine: {machine['cpus']} CPUs, {machine['platform']}, {machine['browser']}.", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", required=True, help="name of this run in the results, e.g. before/after")
    parser.add_argument("--seconds", type=float, default=30.0, help="how long each scenario is watched")
    args = parser.parse_args()
    path = RESULTS / "web_watch.json"
    results: dict[str, Any] = json.loads(path.read_text()) if path.is_file() else {}
    results[args.label] = run(args.seconds)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n")
    (RESULTS / "web_watch.md").write_text(markdown(results))
    print(markdown(results))


if __name__ == "__main__":
    main()
