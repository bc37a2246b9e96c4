"""GPU Sentinel: one self-hosted service that watches NVIDIA GPUs and their host."""

from importlib.metadata import PackageNotFoundError, version

DISTRIBUTION = "gpu-sentinel-server"
"""The name on the package index (``gpu-sentinel`` there is an unrelated project)."""

try:
    __version__ = version(DISTRIBUTION)
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
