"""Build and load the fake libnvidia-ml.so.1; shared by the tests and the benchmarks, so no pytest here."""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
import threading
from collections.abc import Sequence
from pathlib import Path

SOURCE = Path(__file__).with_name("fakenvml.c")
LIBRARY_NAME = "libnvidia-ml.so.1"
DEFAULT_BUILD_DIR = Path(__file__).with_name("build")
CFLAGS = (
    "-std=gnu11",
    "-O2",
    "-Wall",
    "-Wextra",
    "-shared",
    "-fPIC",
    "-pthread",
    f"-Wl,-soname,{LIBRARY_NAME}",
)
LIBS = ("-lm",)

_preload_lock = threading.Lock()
_preloaded: dict[Path, ctypes.CDLL] = {}


class FakeNvmlBuildError(RuntimeError):
    """gcc is missing or rejected fakenvml.c."""


class FakeNvmlPreloadError(RuntimeError):
    """This process already uses another libnvidia-ml.so.1, so the fake cannot take its place."""


def build_fake_nvml(out_dir: Path = DEFAULT_BUILD_DIR, *, extra_cflags: Sequence[str] = ()) -> Path:
    """Compile fakenvml.c to out_dir/libnvidia-ml.so.1 unless an up-to-date build is there (extra_cflags
    always compile).

    The result is renamed into place, so concurrent builders and processes that already loaded an older
    build never see a half-written file.
    """
    target = Path(out_dir) / LIBRARY_NAME
    if target.exists() and target.stat().st_mtime >= SOURCE.stat().st_mtime and not extra_cflags:
        return target
    gcc = shutil.which("gcc")
    if gcc is None:
        raise FakeNvmlBuildError("gcc is not on PATH")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{LIBRARY_NAME}.{os.getpid()}.{threading.get_ident()}.tmp")
    command = [gcc, *CFLAGS, *extra_cflags, "-o", str(partial), str(SOURCE), *LIBS]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        partial.unlink(missing_ok=True)
        raise FakeNvmlBuildError(f"{' '.join(command)} failed:\n{result.stderr}")
    os.replace(partial, target)
    return target


def fake_nvml_env(lib_path: Path, **fakenvml_vars: str) -> dict[str, str]:
    """Environment for a child process whose pynvml should load the fake library.

    Keyword names are FAKENVML_* variables without the prefix, e.g. gpu_count="4", lost="1".
    """
    env = {key: value for key, value in os.environ.items() if not key.startswith("FAKENVML_")}
    lib_dir = str(Path(lib_path).resolve().parent)
    env["LD_LIBRARY_PATH"] = os.pathsep.join(filter(None, [lib_dir, env.get("LD_LIBRARY_PATH")]))
    env.update({f"FAKENVML_{name.upper()}": value for name, value in fakenvml_vars.items()})
    return env


def load_fake_nvml_in_process(lib_path: Path) -> ctypes.CDLL:
    """Preload the fake library so that pynvml's CDLL("libnvidia-ml.so.1") gets it, and return it.

    glibc resolves a soname to an object already loaded with RTLD_GLOBAL. pynvml keeps its library handle
    for the life of the process, so one process can only ever use one build: loading another path fails.
    """
    path = Path(lib_path).resolve()
    with _preload_lock:
        if path in _preloaded:
            return _preloaded[path]
        if _preloaded:
            raise FakeNvmlPreloadError(
                f"fake NVML already preloaded from {next(iter(_preloaded))}, not {path}"
            )
        lib = ctypes.CDLL(str(path), mode=ctypes.RTLD_GLOBAL)
        _declare_control_functions(lib)
        if ctypes.CDLL(LIBRARY_NAME)._handle != lib._handle:
            raise FakeNvmlPreloadError(f"{LIBRARY_NAME} does not resolve to the preloaded {path}")
        _check_pynvml_binding(path)
        _preloaded[path] = lib
        return lib


def _declare_control_functions(lib: ctypes.CDLL) -> None:
    lib.fakenvml_set_lost.argtypes = [ctypes.c_uint, ctypes.c_int]
    lib.fakenvml_set_lost.restype = None
    lib.fakenvml_inject_xid.argtypes = [ctypes.c_uint, ctypes.c_ulonglong]
    lib.fakenvml_inject_xid.restype = None
    lib.fakenvml_set_init_error.argtypes = [ctypes.c_int]
    lib.fakenvml_set_init_error.restype = None
    lib.fakenvml_reset.argtypes = []
    lib.fakenvml_reset.restype = None
    lib.fakenvml_call_count.argtypes = []
    lib.fakenvml_call_count.restype = ctypes.c_ulonglong
    lib.fakenvml_set_hang.argtypes = [ctypes.c_int, ctypes.c_double]
    lib.fakenvml_set_hang.restype = None
    lib.fakenvml_hung_calls.argtypes = []
    lib.fakenvml_hung_calls.restype = ctypes.c_uint
    lib.fakenvml_delayed_calls.argtypes = []
    lib.fakenvml_delayed_calls.restype = ctypes.c_uint
    lib.fakenvml_gpm_samples_live.argtypes = []
    lib.fakenvml_gpm_samples_live.restype = ctypes.c_longlong


def _check_pynvml_binding(path: Path) -> None:
    """Refuse to go on if pynvml already loaded another libnvidia-ml.so.1 (a real driver, say)."""
    try:
        import pynvml
    except ImportError:
        return
    bound = pynvml.nvmlLib
    if bound is not None and not hasattr(bound, "fakenvml_call_count"):
        raise FakeNvmlPreloadError(f"pynvml already loaded {bound._name}, not the fake at {path}")
