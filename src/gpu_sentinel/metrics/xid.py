"""XID codes and NVIDIA's short description of each, for the ``err_msg`` label of ``DCGM_FI_DEV_XID_ERRORS``.

The descriptions are the ones in NVIDIA's XID catalogue (docs.nvidia.com/deploy/xid-errors), spelled as
dcgm-exporter labels them, so alert rules and dashboards that match on ``err_msg`` keep matching.
"""

from __future__ import annotations

from collections.abc import Iterable

UNKNOWN_XID = "Unknown Error"
"""What dcgm-exporter writes for a code it has no description for."""

_PUSH_BUFFER = "Invalid or corrupted push buffer stream"
_VIDEO = "Video processor exception"
_FIRMWARE = "Driver firmware error"
_MICRO_CONTROLLER = "Internal micro-controller error"
_STOPPED = "GPU stopped processing"


def _same(message: str, codes: Iterable[int]) -> dict[int, str]:
    return dict.fromkeys(codes, message)


def _numbered(template: str, codes: Iterable[int], first: int) -> dict[int, str]:
    """Consecutive codes for numbered engines, such as NVDEC3..NVDEC4 at codes 88..89."""
    return {code: template.format(first + i) for i, code in enumerate(codes)}


XID_MESSAGES: dict[int, str] = {
    0: "No Error",
    **_same(_PUSH_BUFFER, (1, 2, 3, 4, 6, 11, 32)),
    **_same("Unused", (5, 10, 14, 15, 17, 23, 39, 40, 41, 49, 50, 51, 52, 53, 55)),
    **_same("Reserved", (87, 90, 91, 108)),
    **_same(_VIDEO, (27, 28, 29, 34, 35, 36, 42, 47, 60, 65)),
    **_same(_FIRMWARE, (37, 38)),
    **_same(_MICRO_CONTROLLER, (33, 59)),
    **_same(_STOPPED, (8, 43, 46)),
    7: "Invalid or corrupted push buffer address",
    9: "Driver error programming GPU",
    12: "Driver error handling GPU exception",
    13: "Graphics Engine Exception",
    16: "Display engine hung",
    18: "Bus mastering disabled in PCI Config Space",
    19: "Display Engine error",
    20: "Invalid or corrupted Mpeg push buffer",
    21: "Invalid or corrupted Motion Estimation push buffer",
    22: "Invalid or corrupted Video Processor push buffer",
    24: "GPU semaphore timeout",
    25: "Invalid or illegal push buffer stream",
    26: "Framebuffer timeout",
    30: "GPU semaphore access error",
    31: "GPU memory page fault",
    44: "Graphics Engine fault during context switch",
    45: "Preemptive cleanup, due to previous errors -- Most likely to see when running multiple cuda",
    48: "Double Bit ECC Error",
    54: "Auxiliary power is not connected to the GPU board",
    56: "Display Engine error",
    57: "Error programming video memory interface",
    58: "Unstable video memory interface detected",
    61: "Internal micro-controller breakpoint/warning",
    62: "Internal micro-controller halt",
    63: "ECC page retirement or row remapping recording event",
    64: "ECC page retirement or row remapper recording failure",
    66: "Illegal access by driver",
    67: "Illegal access by driver",
    68: "NVDEC0 Exception",
    69: "Graphics Engine class error",
    **_numbered("CE{}: Unknown Error", (70, 71, 72), 3),
    73: "NVENC2 Error",
    74: "NVLINK Error",
    **_numbered("CE{}: Unknown Error", (75, 76, 77), 6),
    78: "vGPU Start Error",
    79: "GPU has fallen off the bus",
    80: "Corrupted data sent to GPU",
    81: "VGA Subsystem Error",
    82: "NVJPG0 Error",
    83: "NVDEC1 Error",
    84: "NVDEC2 Error",
    85: "CE9: Unknown Error",
    86: "OFA Exception",
    **_numbered("NVDEC{} Error", (88, 89), 3),
    92: "High single-bit ECC error rate",
    93: "Non-fatal violation of provisioned InfoROM wear limit",
    94: "Contained ECC error",
    95: "Uncontained ECC error",
    **_numbered("NVDEC{} Error", (96, 97, 98), 5),
    **_numbered("NVJPG{} Error", range(99, 106), 1),
    106: "SMBPBI Test Message",
    107: "SMBPBI Test Message Silent",
    109: "Context Switch Timeout Error",
    110: "Security Fault Error",
    111: "Display Bundle Error Event",
    112: "Display Supervisor Error",
    113: "DP Link Training Error",
    114: "Display Pipeline Underflow Error",
    115: "Display Core Channel Error",
    116: "Display Window Channel Error",
    117: "Display Cursor Channel Error",
    118: "Display Pixel Pipeline Error",
    119: "GSP RPC Timeout",
    120: "GSP Error",
    121: "C2C Link Error",
    122: "SPI PMU RPC Read Failure",
    123: "SPI PMU RPC Write Failure",
    124: "SPI PMU RPC Erase Failure",
    125: "Inforom FS Failure",
    **_numbered("Robust Channel CE{} Error", range(126, 136), 10),
    136: "ALI Training Fail",
    137: "NVLink Privilege Error",
    138: "Robust Channel DLA Error",
    139: "Robust Channel OFA1 Error",
    140: "Unrecovered ECC Error",
    141: "Robust Channel Fast Path Error",
    142: "Robust Channel NVENVC3 Error",
    143: "GPU Initialization Failure",
    144: "NVLINK: Saw Error",
    145: "NVLINK: RLW Error",
    146: "NVLINK: TLW Error",
    147: "NVLINK: TREX Error",
    148: "NVLINK: NVLPW_CTRL Error",
    149: "NVLINK: NETIR Error",
    150: "NVLINK: MSE Error",
    151: "Robust Channel Key rotation Error",
    152: "Robust Channel DLA SMMU Error",
    153: "Robust Channel DLA timeout Error",
    154: "GPU Recovery Action Changed",
    155: "NVLINK: SW Defined Error",
    156: "Resource Retirement Event",
    157: "Resource Retirement Failure",
    158: "GPU Fatal Timeout",
    159: "Robust Channel CHI Non-Data Error",
    160: "Channel Retirement Event",
    161: "Channel Retirement Failure",
    162: "Power Smoothing HW Circuitry Reengaged",
    163: "Power Smoothing HW Circuitry Disengaged",
    164: "Power Smoothing HW Circuitry Low Lifetime",
    165: "Power Smoothing HW Circuitry Lifetime Exhausted",
    166: "NVLINK Secure Crypto Error",
    167: "PCIE Fatal Timeout",
    168: "Reduced GPU Memory Capacity (Errors found in write protection region)",
    169: "Internal micro-controller halt",
    170: "NVLINK: Interrupt seen in CC mode",
    171: "Uncorrectable DRAM Error",
    172: "Uncorrectable SRAM Error",
}


def xid_message(code: int) -> str:
    """NVIDIA's description of ``code``; ``Unknown Error`` for codes newer drivers added since."""
    return XID_MESSAGES.get(code, UNKNOWN_XID)


def xid_labels(value: float) -> tuple[str, str]:
    """``err_code`` and ``err_msg`` for an exported last-XID value, as dcgm-exporter derives them."""
    code = int(value)
    return str(code), xid_message(code)
