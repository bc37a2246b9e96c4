"""NVIDIA GPUs through NVML (the official ``nvidia-ml-py`` binding), each GPU read on its own workers.

Every GPU has a fast worker (the readings published every tick) and a slow worker (processes, ECC,
retired pages, remapped rows, violation times, the PCIe throughput fallback) so that neither an
expensive reading nor a driver call that hangs on one GPU delays the tick or any other GPU. A tick asks
every idle worker for a reading, waits for them at most ``ReadDeadlines.wait_s``, and publishes each
GPU's fresh reading; a GPU whose read has run past its deadline is published as unresponsive (since
the moment the deadline passed) with no readings, and is back to normal at the first tick after its
driver answers. ``nvmlInit`` runs once; when it fails the source retries on an interval, so a driver
that comes up later is picked up without a restart.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import pynvml

from gpu_sentinel.collectors.base import CallStats
from gpu_sentinel.collectors.nvml.calls import GPULost, NvmlCalls, text
from gpu_sentinel.collectors.nvml.events import XidWatcher
from gpu_sentinel.collectors.nvml.fields import probe_capabilities
from gpu_sentinel.collectors.nvml.gpm import gpm_supported
from gpu_sentinel.collectors.nvml.readers import FastReader, Reading, SlowReader
from gpu_sentinel.collectors.processes import ProcessInspector
from gpu_sentinel.collectors.worker import ReadWorker
from gpu_sentinel.snapshot import GPUInfo, GPUSample, XidEvent

log = logging.getLogger(__name__)

RECENT_XID_EVENTS = 20
CLOSE_TIMEOUT_S = 2.0


@dataclass(frozen=True, slots=True)
class ReadDeadlines:
    """How long a tick waits for the GPUs, and how long a GPU may take before it is reported unresponsive.

    A tick waits at most half the sampling interval (``wait_s``), so the other half stays free for host
    metrics and publishing and the cadence holds while a GPU hangs. A healthy fast read takes about a
    millisecond on a real driver; one still running when the tick publishes leaves that GPU without
    readings for the tick, and only once it has run for ``fast_s`` (two intervals, at least 0.5 s) is the
    GPU unresponsive, so a host too busy to schedule a thread for a moment raises no alarm. A slow read
    (about 50 ms with the PCIe throughput fallback) gets ``slow_s``: four intervals, at least 2 s.
    """

    wait_s: float = 0.125
    fast_s: float = 0.5
    slow_s: float = 2.0

    @classmethod
    def for_interval(cls, interval_s: float) -> ReadDeadlines:
        return cls(wait_s=interval_s / 2, fast_s=max(0.5, 2 * interval_s), slow_s=max(2.0, 4 * interval_s))


@dataclass
class _Device:
    """One GPU: its handle and identity, its two workers, and what the sampler thread tracks for it."""

    index: int
    handle: Any
    info: GPUInfo
    lost: bool = False
    fast: ReadWorker[Reading] | None = None
    slow: ReadWorker[Reading] | None = None
    last_slow: Reading | None = None
    unresponsive_since: float | None = None
    xid_count: int = 0
    xid_events: deque[XidEvent] = field(default_factory=lambda: deque(maxlen=RECENT_XID_EVENTS))

    def workers(self) -> list[ReadWorker[Reading]]:
        return [w for w in (self.fast, self.slow) if w is not None]


class NvmlGPUs:
    """The GPU source for real NVIDIA GPUs. ``sample`` is called from the sampler thread only."""

    def __init__(
        self,
        retry_interval_s: float = 30.0,
        *,
        deadlines: ReadDeadlines | None = None,
        clock: Callable[[], float] = time.monotonic,
        inspector_factory: Callable[[], ProcessInspector] = ProcessInspector,
    ) -> None:
        self._retry_interval_s = retry_interval_s
        self._deadlines = deadlines or ReadDeadlines()
        self._clock = clock
        self._inspector_factory = inspector_factory
        self._calls = NvmlCalls()
        self._done = threading.Condition()
        self._devices: list[_Device] = []
        self._initialized = False
        self._next_attempt = 0.0
        self._xids: XidWatcher | None = None
        self._status = "nvml_unavailable: not initialised yet"

    @property
    def available(self) -> bool:
        return self._initialized and bool(self._devices)

    @property
    def status(self) -> str:
        return self._status

    def call_stats(self) -> Mapping[str, CallStats]:
        return self._calls.snapshot()

    # -- lifecycle ---------------------------------------------------------------------------------

    def _ensure_initialized(self) -> None:
        if self._initialized or self._clock() < self._next_attempt:
            return
        self._next_attempt = self._clock() + self._retry_interval_s
        try:
            pynvml.nvmlInit()
        except pynvml.NVMLError as exc:
            self._status = f"nvml_unavailable: {exc}"
            log.info("NVML not available (%s); retrying every %.0f s", exc, self._retry_interval_s)
            return
        self._initialized = True
        try:
            self._open_devices()
        except pynvml.NVMLError as exc:
            self._status = f"nvml_unavailable: {exc}"
            log.warning("NVML initialised but devices could not be listed: %s", exc)
            self._shutdown()
            return
        if not self._devices:
            self._status = "no_gpus: the driver reports no NVIDIA GPU"
            self._shutdown()
            return
        self._status = "ok"
        log.info("NVML ready: %d GPU(s), driver %s", len(self._devices), self._devices[0].info.driver_version)

    def _open_devices(self) -> None:
        call = self._calls.call
        driver = call(None, "nvmlSystemGetDriverVersion")
        cuda = call(None, "nvmlSystemGetCudaDriverVersion")
        cuda_version = f"{cuda // 1000}.{cuda % 1000 // 10}" if cuda else None
        count = pynvml.nvmlDeviceGetCount()
        self._devices = [
            self._open_device(i, text(driver) if driver else None, cuda_version) for i in range(count)
        ]
        self._xids = XidWatcher((d.index, d.handle) for d in self._devices if not d.lost)

    def _open_device(self, index: int, driver: str | None, cuda_version: str | None) -> _Device:
        try:
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
        except pynvml.NVMLError as exc:
            log.warning("GPU %d cannot be opened: %s", index, exc)
            return _Device(index, None, GPUInfo(index=index, name="Unknown GPU"), lost=True)
        device = _Device(index, handle, GPUInfo(index=index, name="Unknown GPU"))
        try:
            device.info = self._read_info(index, handle, driver, cuda_version)
            capabilities = probe_capabilities(
                lambda request: self._calls.call(None, "nvmlDeviceGetFieldValues", handle, list(request))
            )
            capabilities = replace(capabilities, gpm=gpm_supported(self._calls, handle))
        except GPULost:
            device.lost = True
            return device
        fast = FastReader(self._calls, handle, capabilities, self._clock)
        device.fast = ReadWorker(f"gpu-sentinel-gpu{index}-fast", fast.read, self._done, fast.close)
        device.slow = ReadWorker(
            f"gpu-sentinel-gpu{index}-slow",
            SlowReader(self._calls, handle, capabilities, self._inspector_factory()).read,
            self._done,
        )
        return device

    def _read_info(self, index: int, handle: Any, driver: str | None, cuda_version: str | None) -> GPUInfo:
        def read(name: str, *args: Any) -> Any:
            return self._calls.call(None, name, handle, *args)

        pci = read("nvmlDeviceGetPciInfo")
        memory = read("nvmlDeviceGetMemoryInfo")
        capability = read("nvmlDeviceGetCudaComputeCapability")
        name = read("nvmlDeviceGetName")
        uuid = read("nvmlDeviceGetUUID")
        serial = read("nvmlDeviceGetSerial")
        return GPUInfo(
            index=index,
            name=text(name) if name else "Unknown GPU",
            uuid=text(uuid) if uuid else None,
            serial=text(serial) if serial else None,
            pci_bus_id=text(pci.busId) if pci is not None else None,
            memory_total_bytes=memory.total if memory is not None else None,
            driver_version=driver,
            cuda_version=cuda_version,
            compute_capability=f"{capability[0]}.{capability[1]}" if capability else None,
            gpu_max_mhz=read("nvmlDeviceGetMaxClockInfo", pynvml.NVML_CLOCK_SM),
            memory_max_mhz=read("nvmlDeviceGetMaxClockInfo", pynvml.NVML_CLOCK_MEM),
            pcie_max_generation=read("nvmlDeviceGetMaxPcieLinkGeneration"),
            pcie_max_width=read("nvmlDeviceGetMaxPcieLinkWidth"),
        )

    def _shutdown(self) -> None:
        workers = [(device.index, worker) for device in self._devices for worker in device.workers()]
        for _, worker in workers:
            worker.stop()
        deadline = time.monotonic() + CLOSE_TIMEOUT_S
        stuck = {index for index, worker in workers if not worker.join(max(0.0, deadline - time.monotonic()))}
        if self._xids is not None:
            self._xids.close()
            self._xids = None
        self._devices = []
        if self._initialized:
            self._initialized = False
            if stuck:
                # Shutting NVML down under a call still in the driver is undefined; the process is ending.
                log.warning("GPU(s) %s still in a driver call; leaving NVML initialised", sorted(stuck))
                return
            with contextlib.suppress(pynvml.NVMLError):
                pynvml.nvmlShutdown()

    def close(self) -> None:
        self._shutdown()

    # -- sampling ----------------------------------------------------------------------------------

    def sample(self, now: float, include_slow: bool) -> tuple[GPUSample, ...]:
        self._ensure_initialized()
        if not self._initialized:
            return ()
        self._record_xids(now)
        started = self._clock()
        waiting: list[ReadWorker[Reading]] = []
        for device in self._devices:
            if device.lost or device.fast is None or device.slow is None:
                continue
            if device.fast.request(started):
                waiting.append(device.fast)
            first_slow = device.last_slow is None
            if (include_slow or first_slow) and device.slow.request(started) and first_slow:
                waiting.append(device.slow)  # so that the first snapshot is complete
        with self._done:
            self._done.wait_for(
                lambda: all(worker.busy_since is None for worker in waiting), self._deadlines.wait_s
            )
        checked = self._clock()
        return tuple(self._publish(device, now, started, checked) for device in self._devices)

    def _publish(self, device: _Device, now: float, started: float, checked: float) -> GPUSample:
        """``now`` is the tick's Unix time; ``started`` and ``checked`` are the monotonic times it asked
        the workers and stopped waiting for them."""
        if device.lost or device.fast is None or device.slow is None:
            return self._silent(device)
        with self._done:
            late = device.fast.busy_since is not None
            missed = [
                _missed_at(device.fast.busy_since, self._deadlines.fast_s, now, started, checked),
                _missed_at(device.slow.busy_since, self._deadlines.slow_s, now, started, checked),
            ]
        fast, slow = device.fast.take(), device.slow.take()
        if slow is not None:
            device.last_slow = slow
        if (fast is not None and fast.lost) or (slow is not None and slow.lost):
            device.lost = True
            log.error("GPU %d (%s) has fallen off the bus", device.index, device.info.pci_bus_id)
            return self._silent(device)
        missed_at = min((at for at in missed if at is not None), default=None)
        if missed_at is not None:
            if device.unresponsive_since is None:
                device.unresponsive_since = missed_at
                log.warning("GPU %d missed its read deadline: reported unresponsive", device.index)
            return self._silent(device)
        if late:  # not back yet, but within its deadline: no readings this tick, and no alarm
            return self._silent(device)
        if device.unresponsive_since is not None:
            log.warning("GPU %d answers again", device.index)
            device.unresponsive_since = None
        return self._sample(device, fast or Reading())

    @staticmethod
    def _silent(device: _Device) -> GPUSample:
        """A GPU without readings: lost, unresponsive, or late this tick."""
        return GPUSample(
            info=device.info,
            lost=device.lost,
            unresponsive_since=None if device.lost else device.unresponsive_since,
            **_xid_fields(device),
        )

    @staticmethod
    def _sample(device: _Device, fast: Reading) -> GPUSample:
        slow = device.last_slow or Reading()
        return GPUSample(
            info=device.info,
            processes=slow.processes,
            **_xid_fields(device),
            **fast.fields,
            **slow.fields,
        )

    def _record_xids(self, now: float) -> None:
        for index, xid in self._xids.drain() if self._xids is not None else ():
            device = self._devices[index]
            device.xid_count += 1
            device.xid_events.append(XidEvent(timestamp=now, xid=xid))
            log.warning("GPU %d reported XID %d", index, xid)


def _missed_at(
    busy_since: float | None, deadline_s: float, now: float, started: float, checked: float
) -> float | None:
    """When (Unix seconds) a read running since ``busy_since`` (monotonic) passed its deadline, at the
    latest the tick's own time ``now`` (``started`` in monotonic time); None while it has not."""
    if busy_since is None or checked - busy_since <= deadline_s:
        return None
    return now + min(0.0, busy_since + deadline_s - started)


def _xid_fields(device: _Device) -> dict[str, Any]:
    return {
        "xid_count": device.xid_count,
        "last_xid": device.xid_events[-1].xid if device.xid_events else None,
        "xid_events": tuple(device.xid_events),
    }
