"""NVIDIA GPUs through NVML; this package is the only importer of ``pynvml``."""

from gpu_sentinel.collectors.nvml.readers import decode_clock_event_reasons
from gpu_sentinel.collectors.nvml.source import NvmlGPUs, ReadDeadlines

__all__ = ["NvmlGPUs", "ReadDeadlines", "decode_clock_event_reasons"]
