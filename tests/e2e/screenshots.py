"""Screenshots of the dashboard's main views for docs/ (not a test).

    .venv/bin/python -m tests.e2e.screenshots [--url http://127.0.0.1:5500] [--out docs]

Without --url it starts ``gpu-sentinel serve --simulate 4`` and lets it collect a minute of history.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.e2e.conftest import VIEWPORT, launch_chromium
from tests.server import running_server

SHOTS = [
    # (file, view, theme, path)
    ("dashboard-single-dark.png", "single", "dark", "/"),
    ("dashboard-single-light.png", "single", "light", "/"),
    ("dashboard-compare-dark.png", "compare", "dark", "/"),
    ("dashboard-compare-light.png", "compare", "light", "/"),
    ("usage-dark.png", "single", "dark", "/usage"),
]


@contextmanager
def server(url: str | None, warmup_s: float) -> Iterator[str]:
    if url:
        yield url
        return
    with running_server(["--simulate", "4", "--seed", "11"]) as started:
        time.sleep(warmup_s)
        yield started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="an already running gpu-sentinel")
    parser.add_argument("--out", type=Path, default=Path("docs"))
    parser.add_argument("--warmup", type=float, default=60.0, help="seconds of history to collect first")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with server(args.url, args.warmup) as url:
        for browser in launch_chromium():
            for name, view, theme, path in SHOTS:
                context = browser.new_context(viewport=VIEWPORT, color_scheme=theme)
                page = context.new_page()
                settings = {"state": {"viewMode": view, "theme": theme, "timeRange": "1h"}, "version": 1}
                page.add_init_script(
                    f"localStorage.setItem('gpu-sentinel.settings', {json.dumps(json.dumps(settings))})"
                )
                page.goto(url + path)
                page.wait_for_timeout(6000)
                page.screenshot(path=str(args.out / name), full_page=True)
                context.close()
                print(args.out / name)


if __name__ == "__main__":
    main()
