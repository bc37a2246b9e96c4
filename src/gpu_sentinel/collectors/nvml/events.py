"""XID critical errors from NVML's event set, polled without blocking on the sampler thread."""

from __future__ import annotations

import contextlib
import ctypes
import logging
from collections.abc import Iterable
from typing import Any

import pynvml

log = logging.getLogger(__name__)


class XidWatcher:
    """Registers GPUs for XID events; a GPU or driver without events simply reports none."""

    def __init__(self, handles: Iterable[tuple[int, Any]]) -> None:
        self._event_set: Any = None
        self._index_by_address: dict[int, int] = {}
        try:
            self._event_set = pynvml.nvmlEventSetCreate()
        except pynvml.NVMLError as exc:
            log.info("NVML events unavailable (%s): XID errors will not be reported", exc)
            return
        for index, handle in handles:
            try:
                supported = pynvml.nvmlDeviceGetSupportedEventTypes(handle)
                if supported & pynvml.nvmlEventTypeXidCriticalError:
                    pynvml.nvmlDeviceRegisterEvents(
                        handle, pynvml.nvmlEventTypeXidCriticalError, self._event_set
                    )
                    address = _handle_address(handle)
                    if address is not None:
                        self._index_by_address[address] = index
            except pynvml.NVMLError as exc:
                log.info("GPU %d: XID events unavailable (%s)", index, exc)

    def drain(self) -> list[tuple[int, int]]:
        """Every XID queued since the last call, as (GPU index, XID); never waits."""
        found: list[tuple[int, int]] = []
        while self._event_set is not None:
            try:
                event = pynvml.nvmlEventSetWait(self._event_set, 0)
            except pynvml.NVMLError_Timeout:
                break
            except pynvml.NVMLError as exc:
                log.warning("reading NVML events failed: %s", exc)
                break
            if event.eventType != pynvml.nvmlEventTypeXidCriticalError:
                continue
            index = self._index_by_address.get(_handle_address(event.device) or 0)
            if index is not None:
                found.append((index, int(event.eventData)))
        return found

    def close(self) -> None:
        if self._event_set is not None:
            with contextlib.suppress(pynvml.NVMLError):
                pynvml.nvmlEventSetFree(self._event_set)
            self._event_set = None
        self._index_by_address.clear()


def _handle_address(handle: Any) -> int | None:
    """A device handle's address, to match event records to devices."""
    return ctypes.cast(handle, ctypes.c_void_p).value
