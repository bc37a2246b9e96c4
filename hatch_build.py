"""Hatch build hook: builds the dashboard (web/) into the package (src/gpu_sentinel/web/).

Runs ``npm ci`` and ``npm run build`` when the built dashboard is missing or older than its sources, so
``pip install .`` on a fresh machine ships a working dashboard, and an editable install or a rebuild with
nothing changed costs nothing. The build output is not committed.

Set ``GPU_SENTINEL_SKIP_WEB_BUILD=1`` to build a wheel without the dashboard (the API then serves a page
explaining how to build it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

WEB_SOURCE = "web"
WEB_OUTPUT = "src/gpu_sentinel/web"
# What the build reads; node_modules and the output itself are not sources.
SOURCE_ENTRIES = ("src", "index.html", "package.json", "package-lock.json", "vite.config.ts", "tsconfig.json")
SKIP_ENV = "GPU_SENTINEL_SKIP_WEB_BUILD"


class WebBuildError(RuntimeError):
    """The dashboard could not be built; the message says what to do."""


def newest_mtime(paths: list[Path]) -> float:
    newest = 0.0
    for path in paths:
        if path.is_file():
            newest = max(newest, path.stat().st_mtime)
        elif path.is_dir():
            for child in path.rglob("*"):
                if child.is_file():
                    newest = max(newest, child.stat().st_mtime)
    return newest


def needs_build(web_dir: Path, output_dir: Path) -> bool:
    """True when the built index.html is missing or any source is newer than it."""
    index = output_dir / "index.html"
    if not index.is_file():
        return True
    return newest_mtime([web_dir / entry for entry in SOURCE_ENTRIES]) > index.stat().st_mtime


def run_npm(npm: str, args: list[str], cwd: Path) -> None:
    try:
        subprocess.run([npm, *args], cwd=cwd, check=True)
    except subprocess.CalledProcessError as error:
        raise WebBuildError(
            f"`npm {' '.join(args)}` failed in {cwd} (exit {error.returncode}); see its output above."
        ) from error


def build_web(root: Path) -> None:
    web_dir = root / WEB_SOURCE
    output_dir = root / WEB_OUTPUT
    if not web_dir.is_dir():
        # An sdist without web/ sources: whatever was built into the package ships as it is.
        return
    if not needs_build(web_dir, output_dir):
        return
    npm = shutil.which("npm")
    if npm is None:
        raise WebBuildError(
            "Building GPU Sentinel needs Node.js 20+ and npm to build its dashboard (web/), and `npm` is not "
            f"on PATH. Install Node.js (for example `apt-get install nodejs npm`), or set {SKIP_ENV}=1 to "
            "build without the dashboard."
        )
    # npm ci is skipped when node_modules already matches the lock file, which keeps rebuilds fast.
    lock = web_dir / "package-lock.json"
    installed_lock = web_dir / "node_modules" / ".package-lock.json"
    if not installed_lock.is_file() or installed_lock.stat().st_mtime < lock.stat().st_mtime:
        run_npm(npm, ["ci", "--no-audit", "--no-fund"], web_dir)
    run_npm(npm, ["run", "build"], web_dir)
    if not (output_dir / "index.html").is_file():
        raise WebBuildError(f"The web build finished but wrote no {WEB_OUTPUT}/index.html.")


class WebBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if os.environ.get(SKIP_ENV, "").lower() in ("1", "true", "yes"):
            self.app.display_warning(f"{SKIP_ENV} is set: building without the dashboard")
            return
        root = Path(self.root)
        self.app.display_info("Building the web dashboard (web/ -> src/gpu_sentinel/web/)")
        build_web(root)
        # The output is git-ignored, so it must be named to be packaged.
        if (root / WEB_OUTPUT).is_dir():
            build_data.setdefault("artifacts", []).append(f"/{WEB_OUTPUT}/")
