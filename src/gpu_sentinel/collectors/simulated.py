"""Realistic simulated GPUs for demos, API tests and UI tests on machines without one.

Each GPU alternates between idle and busy phases (training, inference); power follows load, temperature
follows power with thermal lag, the fan follows temperature, processes come and go with the phases, and
rare XIDs, ECC errors and PCIe replays happen, and clock-violation time accrues while power or heat
holds the clocks down. GPUs in MIG mode (``mig_gpus``, the last ones) carry an H100's usual split into
four GPU instances, each with a workload of its own, and report what NVML reports under MIG: no
utilization for the GPU, its instances or their processes. Time comes from the caller, so tests can
drive it. Fault injection (``inject_xid``, ``set_lost``, ``set_unresponsive``, ``force_load``) lets
alert tests provoke exactly what they need.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from gpu_sentinel.collectors.base import CallStats
from gpu_sentinel.snapshot import GPUInfo, GPUProcess, GPUSample, MIGInstance, ProfilingSample, XidEvent

MODEL = "NVIDIA H100 80GB HBM3"
MEMORY_TOTAL_BYTES = 80 * 1024**3
MEMORY_RESERVED_BYTES = 551 * 1024**2  # what the driver keeps back on an H100 80GB
POWER_LIMIT_W = 700.0
IDLE_POWER_W = 68.0
AMBIENT_C = 30.0
MAX_SM_MHZ = 1980
IDLE_SM_MHZ = 345
MEMORY_MHZ = 2619
THERMAL_TIME_CONSTANT_S = 40.0
XID_MEAN_INTERVAL_S = 1800.0
LOST_AFTER_S = 90.0
RECENT_XID_EVENTS = 20

PROCESS_NAMES = ("python", "torchrun", "vllm", "tritonserver", "jupyter-lab", "ollama")
USERS = ("alice", "bob", "carol", "dave")
REALISTIC_XIDS = (13, 31, 43, 45, 48, 63, 64, 79, 94, 95)
MIG_SLICES = 7
MIG_LAYOUT: tuple[tuple[str, int, int], ...] = (  # profile, GPU-instance id, compute slices
    ("3g.40gb", 1, 3),
    ("2g.20gb", 5, 2),
    ("1g.10gb", 13, 1),
    ("1g.10gb", 14, 1),
)


@dataclass
class _Phase:
    name: str
    target_util: float
    ends_at: float
    memory_bytes: int
    processes: tuple[GPUProcess, ...]


@dataclass
class _SimulatedInstance:
    """One GPU instance of a GPU in MIG mode, running a workload of its own."""

    profile: str
    gpu_instance_id: int
    slices: int
    memory_total_bytes: int
    utilization: float = 0.0
    phase: _Phase | None = None


@dataclass
class _SimulatedGPU:
    info: GPUInfo
    temperature_c: float = AMBIENT_C + 5
    utilization: float = 0.0
    energy_j: float = 0.0
    phase: _Phase | None = None
    forced_util: float | None = None
    lost: bool = False
    xid_count: int = 0
    xid_events: list[XidEvent] = field(default_factory=list)
    ecc_corrected: int = 0
    ecc_uncorrected: int = 0
    pcie_replays: int = 0
    power_violation_s: float = 0.0
    thermal_violation_s: float = 0.0
    low_util_violation_s: float = 0.0
    unresponsive_since: float | None = None
    pending_xids: list[int] = field(default_factory=list)
    instances: tuple[_SimulatedInstance, ...] = ()  # GPU instances, in MIG mode only


class SimulatedGPUs:
    """A GPUSource of ``count`` simulated H100s, the last ``mig_gpus`` of them in MIG mode."""

    def __init__(
        self,
        count: int,
        *,
        seed: int | None = None,
        lose_last_gpu: bool = False,
        lost_after_s: float = LOST_AFTER_S,
        xid_mean_interval_s: float = XID_MEAN_INTERVAL_S,
        mig_gpus: int = 0,
    ) -> None:
        self._random = random.Random(seed)
        # NVLink and PCIe replays draw from their own stream, so seeded runs keep their other values.
        self._link_random = random.Random(None if seed is None else seed + 1)
        self._lose_last_gpu = lose_last_gpu and count > 0
        self._lost_after_s = lost_after_s
        self._xid_mean_interval_s = xid_mean_interval_s
        self._started_at: float | None = None
        self._last_now: float | None = None
        self._next_pid = 41000
        self._gpus = [_SimulatedGPU(info=self._make_info(i)) for i in range(count)]
        for gpu in self._gpus[count - min(mig_gpus, count) :]:
            gpu.instances = tuple(
                _SimulatedInstance(profile, gi, slices, int(profile.split(".")[1][:-2]) * 1024**3)
                for profile, gi, slices in MIG_LAYOUT
            )
        self._calls = CallStats()

    available = True
    status = "ok"

    @staticmethod
    def _make_info(index: int) -> GPUInfo:
        return GPUInfo(
            index=index,
            name=MODEL,
            uuid=f"GPU-5e1a7e00-0000-4000-8000-{index:012d}",
            serial=f"165392300{index:04d}",
            pci_bus_id=f"00000000:{0x18 + 0x10 * index:02X}:00.0",
            memory_total_bytes=MEMORY_TOTAL_BYTES,
            driver_version="550.54.15",
            cuda_version="12.4",
            compute_capability="9.0",
            gpu_max_mhz=MAX_SM_MHZ,
            memory_max_mhz=MEMORY_MHZ,
            pcie_max_generation=5,
            pcie_max_width=16,
        )

    # -- fault injection, for tests and demos ------------------------------------------------------

    def inject_xid(self, index: int, xid: int) -> None:
        """Report XID ``xid`` on GPU ``index`` at the next sample."""
        self._gpus[index].pending_xids.append(xid)

    def set_lost(self, index: int, lost: bool = True) -> None:
        self._gpus[index].lost = lost

    def set_unresponsive(self, index: int, since: float | None) -> None:
        """Report GPU ``index`` as not answering since ``since`` (Unix seconds); None makes it answer."""
        self._gpus[index].unresponsive_since = since

    def force_load(self, index: int, utilization_pct: float | None) -> None:
        """Pin GPU ``index`` at a utilization (heats it up accordingly); None returns it to its workload."""
        self._gpus[index].forced_util = utilization_pct

    # -- GPUSource ---------------------------------------------------------------------------------

    def sample(self, now: float, include_slow: bool) -> tuple[GPUSample, ...]:
        if self._started_at is None:
            self._started_at = now
        elapsed = 0.25 if self._last_now is None else max(0.0, now - self._last_now)
        self._last_now = now
        if self._lose_last_gpu and now - self._started_at >= self._lost_after_s:
            self._gpus[-1].lost = True
        self._calls.calls += len(self._gpus)
        return tuple(self._step(gpu, now, elapsed) for gpu in self._gpus)

    def call_stats(self) -> Mapping[str, CallStats]:
        return {"simulated": CallStats(self._calls.calls, self._calls.seconds, self._calls.errors)}

    def close(self) -> None:
        return None

    # -- the model ---------------------------------------------------------------------------------

    def _step(self, gpu: _SimulatedGPU, now: float, elapsed: float) -> GPUSample:
        if gpu.lost or gpu.unresponsive_since is not None:
            return GPUSample(
                info=gpu.info,
                lost=gpu.lost,
                unresponsive_since=None if gpu.lost else gpu.unresponsive_since,
                xid_count=gpu.xid_count,
                xid_events=tuple(gpu.xid_events),
            )
        if gpu.instances:
            return self._step_mig(gpu, now, elapsed)
        phase = self._current_phase(gpu, now)
        util = self._follow_load(gpu, phase, gpu.forced_util, elapsed)
        memory_used = min(MEMORY_TOTAL_BYTES - MEMORY_RESERVED_BYTES, phase.memory_bytes + 600 * 1024**2)
        sample = self._whole_gpu(gpu, now, elapsed, util, phase.name)
        return replace(
            sample,
            utilization_gpu_pct=round(util, 1),
            utilization_memory_pct=round(util * 0.62, 1),
            memory_used_bytes=memory_used,
            decoder_pct=round(util * 0.2, 1) if phase.name == "inference" else 0.0,
            mig_mode=False,
            processes=_busy_processes(phase, util),
            profiling=_profiling(phase.name, util, sample.pcie_tx_bytes_per_s, sample.pcie_rx_bytes_per_s),
        )

    def _step_mig(self, gpu: _SimulatedGPU, now: float, elapsed: float) -> GPUSample:
        """A GPU in MIG mode: its instances' loads add up to the GPU's power and heat; NVML reports no
        utilization for the GPU, an instance or a process, and GPM both for the GPU and per instance."""
        loads = []
        for instance in gpu.instances:
            if instance.phase is None or now >= instance.phase.ends_at:
                instance.phase = self._new_phase(
                    instance.phase, now, instance.memory_total_bytes, start_busy=instance.slices >= 2
                )
            loads.append(self._follow_load(instance, instance.phase, gpu.forced_util, elapsed))
        util = sum(load * i.slices for load, i in zip(loads, gpu.instances, strict=True)) / MIG_SLICES
        training = any(i.phase is not None and i.phase.name == "training" for i in gpu.instances)
        sample = self._whole_gpu(gpu, now, elapsed, util, "training" if training else "inference")
        instances: list[MIGInstance] = []
        processes: list[GPUProcess] = []
        for index, (instance, load) in enumerate(zip(gpu.instances, loads, strict=True)):
            phase = instance.phase
            assert phase is not None
            used = min(instance.memory_total_bytes, phase.memory_bytes + 300 * 1024**2)
            on_it = tuple(
                replace(p, gpu_instance_id=instance.gpu_instance_id, compute_instance_id=0)
                for p in phase.processes
            )
            processes.extend(on_it)
            instances.append(
                MIGInstance(
                    index=index,
                    uuid=f"MIG-5e1a7e00-{gpu.info.index:04d}-4000-8000-{instance.gpu_instance_id:012d}",
                    profile=instance.profile,
                    gpu_instance_id=instance.gpu_instance_id,
                    compute_instance_id=0,
                    memory_used_bytes=used,
                    memory_total_bytes=instance.memory_total_bytes,
                    profiling=_profiling(phase.name, load, None, None),  # PCIe is the GPU's
                )
            )
        return replace(
            sample,
            memory_used_bytes=min(
                MEMORY_TOTAL_BYTES - MEMORY_RESERVED_BYTES,
                sum(m.memory_used_bytes or 0 for m in instances) + 600 * 1024**2,
            ),
            mig_mode=True,
            mig_instances=tuple(instances),
            processes=tuple(processes),
            profiling=_profiling(
                "training" if training else "inference",
                util,
                sample.pcie_tx_bytes_per_s,
                sample.pcie_rx_bytes_per_s,
            ),
        )

    def _follow_load(
        self, load: _SimulatedGPU | _SimulatedInstance, phase: _Phase, forced: float | None, elapsed: float
    ) -> float:
        """Utilization eases towards the workload's target (or a forced one), with some noise."""
        target = forced if forced is not None else phase.target_util
        noise = self._random.gauss(0, 4.0) if target > 5 else 0.0
        load.utilization += (target - load.utilization) * min(1.0, elapsed / 3.0)
        return min(100.0, max(0.0, load.utilization + noise))

    def _whole_gpu(
        self, gpu: _SimulatedGPU, now: float, elapsed: float, util: float, workload: str
    ) -> GPUSample:
        """What follows from the GPU's load whatever runs on it: power, heat, fan, clocks, links, errors.
        Utilization, memory use, processes and profiling are the caller's."""

        power = IDLE_POWER_W + (POWER_LIMIT_W - IDLE_POWER_W) * 0.9 * (util / 100.0) ** 1.2
        power = min(POWER_LIMIT_W, power + self._random.gauss(0, 3.0))
        gpu.energy_j += power * elapsed
        steady_temperature = AMBIENT_C + 0.085 * power
        gpu.temperature_c += (steady_temperature - gpu.temperature_c) * min(
            1.0, elapsed / THERMAL_TIME_CONSTANT_S
        )
        fan = min(100.0, max(30.0, (gpu.temperature_c - 25.0) * 1.6))
        sm_clock = int(IDLE_SM_MHZ + (MAX_SM_MHZ - IDLE_SM_MHZ) * min(1.0, util / 40.0))

        reasons: list[str] = []
        if util < 1:
            reasons.append("gpu_idle")
        if power >= POWER_LIMIT_W * 0.97:
            reasons.append("sw_power_cap")
            sm_clock = int(sm_clock * 0.92)
        if gpu.temperature_c >= 87:
            reasons.append("sw_thermal_slowdown")
        self._accrue_violations(gpu, reasons, elapsed)

        self._maybe_raise_errors(gpu, now, elapsed)
        pcie_tx = round(util * 1.5e7 * self._random.uniform(0.5, 1.5), 0)
        pcie_rx = round(util * 4.0e7 * self._random.uniform(0.5, 1.5), 0)
        return GPUSample(
            info=gpu.info,
            memory_total_bytes=MEMORY_TOTAL_BYTES,
            temperature_c=round(gpu.temperature_c, 1),
            memory_temperature_c=round(gpu.temperature_c + 6.0, 1),
            power_w=round(power, 1),
            power_limit_w=POWER_LIMIT_W,
            energy_j=round(gpu.energy_j, 1),
            fan_speed_pct=round(fan, 1),
            sm_clock_mhz=sm_clock,
            memory_clock_mhz=MEMORY_MHZ,
            pcie_generation=5 if util > 1 else 1,
            pcie_width=16,
            pcie_tx_bytes_per_s=pcie_tx,
            pcie_rx_bytes_per_s=pcie_rx,
            encoder_pct=0.0,
            decoder_pct=0.0,
            nvlink_tx_bytes_per_s=self._nvlink_rate(workload, util),
            nvlink_rx_bytes_per_s=self._nvlink_rate(workload, util),
            nvlink_crc_flit_errors=0,
            nvlink_crc_data_errors=0,
            nvlink_replay_errors=gpu.pcie_replays // 4,
            nvlink_recovery_errors=0,
            pcie_replay_count=gpu.pcie_replays,
            memory_reserved_bytes=MEMORY_RESERVED_BYTES,
            power_violation_s=round(gpu.power_violation_s, 3),
            thermal_violation_s=round(gpu.thermal_violation_s, 3),
            sync_boost_violation_s=0.0,
            board_limit_violation_s=0.0,
            low_util_violation_s=round(gpu.low_util_violation_s, 3),
            reliability_violation_s=0.0,
            pstate=0 if util > 1 else 8,
            clock_event_reasons=tuple(reasons),
            ecc_corrected_volatile=gpu.ecc_corrected,
            ecc_uncorrected_volatile=gpu.ecc_uncorrected,
            ecc_corrected_aggregate=gpu.ecc_corrected,
            ecc_uncorrected_aggregate=gpu.ecc_uncorrected,
            retired_pages_single_bit=None,
            retired_pages_double_bit=None,
            retired_pages_pending=None,
            remapped_rows_correctable=gpu.ecc_corrected // 8,
            remapped_rows_uncorrectable=gpu.ecc_uncorrected,
            remapped_rows_pending=False,
            remapped_rows_failure=False,
            xid_count=gpu.xid_count,
            last_xid=gpu.xid_events[-1].xid if gpu.xid_events else None,
            xid_events=tuple(gpu.xid_events),
        )

    def _nvlink_rate(self, workload: str, util: float) -> float:
        """Training all-reduces over NVLink (tens of GB/s); inference and idle barely touch it."""
        per_pct = 4.0e8 if workload == "training" else 2.0e6
        return round(util * per_pct * self._link_random.uniform(0.7, 1.3), 0)

    @staticmethod
    def _accrue_violations(gpu: _SimulatedGPU, reasons: list[str], elapsed: float) -> None:
        if "sw_power_cap" in reasons:
            gpu.power_violation_s += elapsed
        if "sw_thermal_slowdown" in reasons:
            gpu.thermal_violation_s += elapsed
        if "gpu_idle" in reasons:
            gpu.low_util_violation_s += elapsed

    def _current_phase(self, gpu: _SimulatedGPU, now: float) -> _Phase:
        if gpu.phase is None or now >= gpu.phase.ends_at:
            # The first GPU starts busy, so a fresh demo shows load at once.
            gpu.phase = self._new_phase(gpu.phase, now, MEMORY_TOTAL_BYTES, start_busy=gpu.info.index == 0)
        return gpu.phase

    def _new_phase(
        self, previous: _Phase | None, now: float, memory_total_bytes: int, *, start_busy: bool
    ) -> _Phase:
        rng = self._random
        was_busy = previous is not None and previous.name != "idle"
        name = "idle" if was_busy and rng.random() < 0.5 else rng.choice(("training", "inference", "idle"))
        if previous is None and start_busy:
            name = "training"
        if name == "idle":
            return _Phase(name, 0.0, now + rng.uniform(20, 90), 0, ())
        target = rng.uniform(85, 99) if name == "training" else rng.uniform(35, 75)
        workers = rng.randint(1, 3)
        memory = int(rng.uniform(0.25, 0.9) * memory_total_bytes)
        user = rng.choice(USERS)
        processes = []
        for _ in range(workers):
            self._next_pid += rng.randint(1, 40)
            processes.append(
                GPUProcess(
                    pid=self._next_pid,
                    name=rng.choice(PROCESS_NAMES),
                    kind="compute",
                    gpu_memory_bytes=memory // workers,
                    cpu_percent=round(rng.uniform(40, 100), 1),
                    host_memory_bytes=int(rng.uniform(2, 24) * 1024**3),
                    user=user,
                )
            )
        return _Phase(name, target, now + rng.uniform(45, 240), memory, tuple(processes))

    def _maybe_raise_errors(self, gpu: _SimulatedGPU, now: float, elapsed: float) -> None:
        if elapsed > 0 and self._random.random() < elapsed / self._xid_mean_interval_s:
            gpu.pending_xids.append(self._random.choice(REALISTIC_XIDS))
        if elapsed > 0 and self._random.random() < elapsed / 600.0:
            gpu.ecc_corrected += 1
        if elapsed > 0 and self._link_random.random() < elapsed / 900.0:
            gpu.pcie_replays += 1
        for xid in gpu.pending_xids:
            gpu.xid_count += 1
            gpu.xid_events.append(XidEvent(timestamp=now, xid=xid))
            if xid == 48:
                gpu.ecc_uncorrected += 1
        gpu.pending_xids.clear()
        del gpu.xid_events[:-RECENT_XID_EVENTS]


def _profiling(workload: str, util: float, pcie_tx: float | None, pcie_rx: float | None) -> ProfilingSample:
    """GPM-style activity that follows the load: training is tensor-heavy (HMMA), inference runs
    partly in int8 (IMMA); SMs are active a little less often than the engine is busy."""
    tensor = util * (0.62 if workload == "training" else 0.3)
    return ProfilingSample(
        status="ok",
        graphics_active_pct=round(util, 1),
        sm_active_pct=round(util * 0.9, 1),
        sm_occupancy_pct=round(util * 0.45, 1),
        tensor_active_pct=round(tensor, 1),
        tensor_hmma_active_pct=round(tensor * (0.95 if workload == "training" else 0.6), 1),
        tensor_imma_active_pct=round(tensor * 0.4, 1) if workload == "inference" else 0.0,
        tensor_dfma_active_pct=0.0,
        dram_active_pct=round(util * 0.55, 1),
        fp64_active_pct=round(util * 0.005, 1),
        fp32_active_pct=round(util * 0.2, 1),
        fp16_active_pct=round(util * 0.1, 1),
        pcie_tx_bytes_per_s=pcie_tx,
        pcie_rx_bytes_per_s=pcie_rx,
    )


def _busy_processes(phase: _Phase, util: float) -> tuple[GPUProcess, ...]:
    """The phase's processes with their share of the load: the first worker does half the work."""
    count = len(phase.processes)
    shares = [0.5] + [0.5 / (count - 1)] * (count - 1) if count > 1 else [1.0] * count
    return tuple(
        replace(
            process,
            sm_util_pct=round(util * 0.9 * share, 1),
            memory_util_pct=round(util * 0.5 * share, 1),
            encoder_util_pct=0.0,
            decoder_util_pct=round(util * 0.2 * share, 1) if phase.name == "inference" else 0.0,
        )
        for process, share in zip(phase.processes, shares, strict=True)
    )
