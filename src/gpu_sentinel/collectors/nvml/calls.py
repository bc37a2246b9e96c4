"""Every NVML call goes through ``NvmlCalls.call``: errors become None or ``GPULost``, calls are counted.

A metric the GPU does not support (or we may not read) becomes ``None`` for that field only; a GPU that
falls off the bus raises ``GPULost`` so its reader marks it lost while the others keep reporting. The
per-function counts and times feed the collection-cost metrics. Device workers call from their own
threads, so the statistics sit behind one lock and readers get a copy.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import pynvml

from gpu_sentinel.collectors.base import CallStats

log = logging.getLogger(__name__)

# Errors that mean "this field is not available here": the field becomes None, nothing else changes.
FIELD_UNAVAILABLE: tuple[type[Exception], ...] = (
    pynvml.NVMLError_NotSupported,
    pynvml.NVMLError_NoPermission,
    pynvml.NVMLError_FunctionNotFound,
    pynvml.NVMLError_InvalidArgument,
    pynvml.NVMLError_NoData,
)
# Of those, the ones that will not change while the driver is loaded: stop asking.
PERMANENTLY_UNAVAILABLE: tuple[type[Exception], ...] = (
    pynvml.NVMLError_NotSupported,
    pynvml.NVMLError_FunctionNotFound,
)

# Errors that are an ordinary answer, not a fault worth a warning: "no samples newer than that time".
QUIET_ERRORS: tuple[type[Exception], ...] = (pynvml.NVMLError_NotFound,)


class GPULost(Exception):
    """Raised inside a device read when the driver reports the GPU is gone."""


def text(value: Any) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


class NvmlCalls:
    """Times and counts every NVML call and maps its errors to None / ``GPULost``. Thread-safe."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._stats: dict[str, CallStats] = {}
        self._warned: set[str] = set()

    def call(self, unsupported: set[str] | None, name: str, *args: Any) -> Any:
        """Call ``pynvml.<name>``; ``unsupported`` (owned by the calling reader) remembers functions not
        worth asking again."""
        return self.attempt(unsupported, name, *args)[0]

    def attempt(
        self, unsupported: set[str] | None, name: str, *args: Any
    ) -> tuple[Any, pynvml.NVMLError | None]:
        """Like ``call``, with the error that made the value None, for callers that report why."""
        if unsupported is not None and name in unsupported:
            return None, pynvml.NVMLError(pynvml.NVML_ERROR_NOT_SUPPORTED)
        function = getattr(pynvml, name)
        failed = False
        started = self._clock()
        try:
            return function(*args), None
        except pynvml.NVMLError_GpuIsLost as exc:
            failed = True
            raise GPULost from exc
        except FIELD_UNAVAILABLE as exc:
            failed = True
            if unsupported is not None and isinstance(exc, PERMANENTLY_UNAVAILABLE):
                unsupported.add(name)
            return None, exc
        except pynvml.NVMLError as exc:
            failed = True
            if not isinstance(exc, QUIET_ERRORS):
                self._warn_once(name, exc)
            return None, exc
        finally:
            self._record(name, self._clock() - started, failed)

    def snapshot(self) -> dict[str, CallStats]:
        """A copy of the statistics, safe to read while workers keep calling."""
        with self._lock:
            return {name: CallStats(s.calls, s.seconds, s.errors) for name, s in self._stats.items()}

    def total_calls(self) -> int:
        with self._lock:
            return sum(s.calls for s in self._stats.values())

    def _record(self, name: str, seconds: float, failed: bool) -> None:
        with self._lock:
            stats = self._stats.get(name)
            if stats is None:
                stats = self._stats[name] = CallStats()
            stats.calls += 1
            stats.seconds += seconds
            stats.errors += failed

    def _warn_once(self, name: str, exc: Exception) -> None:
        with self._lock:
            if name in self._warned:
                return
            self._warned.add(name)
        log.warning("NVML %s failed: %s (reported as missing)", name, exc)
