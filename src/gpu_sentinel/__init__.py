"""GPU Sentinel: one self-hosted service that watches NVIDIA GPUs and their host."""

__version__ = "0.1.0"
