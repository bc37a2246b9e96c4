"""The MIG devices of one GPU in MIG mode: who they are, their memory and their GPM figures.

Which MIG devices exist changes only when an administrator creates or destroys GPU instances, so the
list is read when the reader starts, every ``REFRESH_S`` after, and at once after a device stops
answering: a refresh costs two calls per device (three more for one not seen before). A tick costs one
memory call per device and, with GPM, one ``nvmlGpmMigSampleGet`` and one ``nvmlGpmMetricsGet`` per GPU
instance. NVML reports no utilization for a MIG device (``nvmlDeviceGetUtilizationRates`` answers "not
supported"): it is asked once and stays None, never 0. A GPU not in MIG mode costs one
``nvmlDeviceGetMigMode`` per refresh; one that cannot do MIG, none after the first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import pynvml

from gpu_sentinel.collectors.nvml.calls import NvmlCalls, text
from gpu_sentinel.collectors.nvml.gpm import GpmSampler
from gpu_sentinel.snapshot import MIGInstance, ProfilingSample

REFRESH_S = 30.0
PROFILE_MARK = " MIG "
"""The driver names a MIG device "<GPU name> MIG <profile>", e.g. "NVIDIA H100 80GB HBM3 MIG 1g.10gb"."""


def profile_of(name: str | None) -> str | None:
    """The GPU-instance profile in a MIG device's name, as nvidia-smi and dcgm-exporter show it."""
    if name is None or PROFILE_MARK not in name:
        return None
    return name.rsplit(PROFILE_MARK, 1)[1].strip() or None


@dataclass
class _Device:
    handle: Any
    identity: MIGInstance  # what does not change while the device exists
    gpm: GpmSampler


class MigDevices:
    """One GPU's MIG devices, owned by its fast reader's thread (like its GPM samplers)."""

    def __init__(
        self,
        calls: NvmlCalls,
        parent: Any,
        gpm_supported: bool,
        clock: Callable[[], float],
        refresh_s: float = REFRESH_S,
    ) -> None:
        self._calls = calls
        self._parent = parent
        self._gpm_supported = gpm_supported
        self._clock = clock
        self._refresh_s = refresh_s
        self._unsupported: set[str] = set()
        self._devices: dict[str, _Device] = {}
        self._next_refresh = 0.0

    def read(self) -> tuple[MIGInstance, ...]:
        """Every MIG device now, in index order; empty when MIG mode is off."""
        if self._clock() >= self._next_refresh:
            self._refresh()
        instances = []
        for device in self._devices.values():
            memory = self._calls.call(None, "nvmlDeviceGetMemoryInfo", device.handle)
            if memory is None:
                self._next_refresh = 0.0  # destroyed meanwhile, most likely: list them again
            utilization = self._calls.call(self._unsupported, "nvmlDeviceGetUtilizationRates", device.handle)
            instances.append(
                replace(
                    device.identity,
                    utilization_gpu_pct=float(utilization.gpu) if utilization is not None else None,
                    memory_used_bytes=memory.used if memory is not None else None,
                    memory_total_bytes=memory.total if memory is not None else None,
                    profiling=ProfilingSample(**device.gpm.read()),
                )
            )
        return tuple(instances)

    def close(self) -> None:
        """Free every device's GPM samples."""
        self._keep({})

    def _refresh(self) -> None:
        self._next_refresh = self._clock() + self._refresh_s
        mode = self._calls.call(self._unsupported, "nvmlDeviceGetMigMode", self._parent)
        if mode is None or mode[0] != pynvml.NVML_DEVICE_MIG_ENABLE:
            self._keep({})
            return
        slots = self._calls.call(self._unsupported, "nvmlDeviceGetMaxMigDeviceCount", self._parent) or 0
        found: dict[str, _Device] = {}
        for index in range(slots):
            handle = self._calls.call(None, "nvmlDeviceGetMigDeviceHandleByIndex", self._parent, index)
            if handle is None:
                continue  # an empty slot
            uuid = self._calls.call(None, "nvmlDeviceGetUUID", handle)
            key = text(uuid) if uuid is not None else f"#{index}"
            known = self._devices.get(key)
            if known is not None and known.identity.index == index:
                found[key] = replace(known, handle=handle)
            else:
                found[key] = self._open(index, handle, key if uuid is not None else None)
        self._keep(found)

    def _open(self, index: int, handle: Any, uuid: str | None) -> _Device:
        name = self._calls.call(None, "nvmlDeviceGetName", handle)
        gpu_instance = self._calls.call(None, "nvmlDeviceGetGpuInstanceId", handle)
        compute_instance = self._calls.call(None, "nvmlDeviceGetComputeInstanceId", handle)
        identity = MIGInstance(
            index=index,
            uuid=uuid,
            profile=profile_of(text(name) if name is not None else None),
            gpu_instance_id=gpu_instance,
            compute_instance_id=compute_instance,
        )
        supported = self._gpm_supported and gpu_instance is not None
        return _Device(
            handle, identity, GpmSampler(self._calls, self._parent, supported, self._clock, gpu_instance)
        )

    def _keep(self, found: dict[str, _Device]) -> None:
        """Make ``found`` the device list, freeing the samples of every device that is gone."""
        for key, device in self._devices.items():
            if key not in found:
                device.gpm.close()
        self._devices = found
