"""The fast readings NVML offers as field values, fetched in one ``nvmlDeviceGetFieldValues`` per GPU.

One call returns memory temperature, the energy counter, the PCIe replay counter, the cumulative PCIe
byte counters, the per-link NVLink data counters and the NVLink error totals. Cumulative counters become
rates over the interval between two of our own reads, timed by the driver's timestamp of each value.

NVLink: ``NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_TX/RX`` (KiB of payload, one ``scopeId`` per link) are the
counters that ``nvidia-smi nvlink -gt d`` reads on Volta through Hopper (r450 and later); the newer
``NVML_FI_DEV_NVLINK_COUNT_XMIT/RCV_BYTES`` need r550+ drivers and are aimed at Blackwell, so Hopper
fleets on older LTS drivers would lose the metric. Each link is diffed on its own and the rates summed,
so a link that stops answering (or was never trained) does not corrupt the total.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pynvml

KIB = 1024
_VALUE_ATTRIBUTES = {
    pynvml.NVML_VALUE_TYPE_DOUBLE: "dVal",
    pynvml.NVML_VALUE_TYPE_UNSIGNED_INT: "uiVal",
    pynvml.NVML_VALUE_TYPE_UNSIGNED_LONG: "ulVal",
    pynvml.NVML_VALUE_TYPE_UNSIGNED_LONG_LONG: "ullVal",
    pynvml.NVML_VALUE_TYPE_SIGNED_LONG_LONG: "sllVal",
    pynvml.NVML_VALUE_TYPE_SIGNED_INT: "siVal",
    pynvml.NVML_VALUE_TYPE_UNSIGNED_SHORT: "usVal",
}

FieldRequest = int | tuple[int, int]  # a field id, or (field id, scope id) for per-link fields
NVLINK_ERROR_FIELDS = {
    pynvml.NVML_FI_DEV_NVLINK_CRC_FLIT_ERROR_COUNT_TOTAL: "nvlink_crc_flit_errors",
    pynvml.NVML_FI_DEV_NVLINK_CRC_DATA_ERROR_COUNT_TOTAL: "nvlink_crc_data_errors",
    pynvml.NVML_FI_DEV_NVLINK_REPLAY_ERROR_COUNT_TOTAL: "nvlink_replay_errors",
    pynvml.NVML_FI_DEV_NVLINK_RECOVERY_ERROR_COUNT_TOTAL: "nvlink_recovery_errors",
}
"""Error totals of all links, as dcgm-exporter's ``DCGM_FI_DEV_NVLINK_*_ERROR_COUNT_TOTAL`` count them."""


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What one GPU's driver offers, probed once when the device opens; read-only for its readers."""

    pcie_counters: bool = False
    nvlink_links: int = 0
    gpm: bool = False


def probe_capabilities(read_fields: Callable[[Sequence[FieldRequest]], Any]) -> Capabilities:
    """Ask once whether the PCIe byte counters exist and how many NVLinks the GPU has."""
    values = read_fields(
        [
            pynvml.NVML_FI_DEV_PCIE_COUNT_TX_BYTES,
            pynvml.NVML_FI_DEV_PCIE_COUNT_RX_BYTES,
            pynvml.NVML_FI_DEV_NVLINK_LINK_COUNT,
        ]
    )
    if values is None:
        return Capabilities()
    tx, rx, links = (field_value(entry) for entry in values)
    return Capabilities(
        pcie_counters=tx is not None and rx is not None,
        nvlink_links=min(int(links), pynvml.NVML_NVLINK_MAX_LINKS) if links else 0,
    )


def field_value(entry: Any) -> float | None:
    """One field value as a number, or None when the driver did not return it."""
    if entry.nvmlReturn != pynvml.NVML_SUCCESS:
        return None
    attribute = _VALUE_ATTRIBUTES.get(entry.valueType)
    return float(getattr(entry.value, attribute)) if attribute else None


class CounterRate:
    """A cumulative counter turned into a rate over the interval between two reads.

    A 32-bit counter that goes down has wrapped; a 64-bit one cannot wrap in practice, so it was reset
    (driver reload, counter clear) and that interval has no rate.
    """

    def __init__(self) -> None:
        self._last: tuple[float, float] | None = None  # (value, seconds)

    def update(self, value: float, at_s: float, bits: int = 64) -> float | None:
        last, self._last = self._last, (value, at_s)
        if last is None or at_s <= last[1]:
            return None
        delta = value - last[0]
        if delta < 0:
            if bits >= 64:
                return None
            delta += 1 << bits
        return delta / (at_s - last[1])


class FieldBatch:
    """The field-value request of one GPU's fast read and the decoding of its answer.

    Owned by that GPU's fast reader: the counter state is only touched from its thread.
    """

    def __init__(self, capabilities: Capabilities, clock: Callable[[], float]) -> None:
        self._capabilities = capabilities
        self._clock = clock
        request: list[FieldRequest] = [
            pynvml.NVML_FI_DEV_MEMORY_TEMP,
            pynvml.NVML_FI_DEV_TOTAL_ENERGY_CONSUMPTION,
            pynvml.NVML_FI_DEV_PCIE_REPLAY_COUNTER,
        ]
        counters: list[FieldRequest] = []
        if capabilities.pcie_counters:
            counters += [pynvml.NVML_FI_DEV_PCIE_COUNT_TX_BYTES, pynvml.NVML_FI_DEV_PCIE_COUNT_RX_BYTES]
        for link in range(capabilities.nvlink_links):
            counters += [
                (pynvml.NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_TX, link),
                (pynvml.NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_RX, link),
            ]
        self._rates = {key: CounterRate() for key in counters}
        if capabilities.nvlink_links:
            request += NVLINK_ERROR_FIELDS
        self.request: tuple[FieldRequest, ...] = (*request, *counters)

    def decode(self, values: Sequence[Any] | None) -> dict[str, Any]:
        """GPUSample fields from the answer (None when the whole call failed: every field missing)."""
        answered = dict(zip(self.request, values or (), strict=False))
        memory_temperature = _value(answered, pynvml.NVML_FI_DEV_MEMORY_TEMP)
        energy_mj = _value(answered, pynvml.NVML_FI_DEV_TOTAL_ENERGY_CONSUMPTION)
        replays = _value(answered, pynvml.NVML_FI_DEV_PCIE_REPLAY_COUNTER)
        fields: dict[str, Any] = {
            "memory_temperature_c": memory_temperature,
            "energy_j": energy_mj / 1000.0 if energy_mj is not None else None,
            "pcie_replay_count": int(replays) if replays is not None else None,
        }
        if self._capabilities.pcie_counters:
            fields["pcie_tx_bytes_per_s"] = self._rate(answered, pynvml.NVML_FI_DEV_PCIE_COUNT_TX_BYTES)
            fields["pcie_rx_bytes_per_s"] = self._rate(answered, pynvml.NVML_FI_DEV_PCIE_COUNT_RX_BYTES)
        if self._capabilities.nvlink_links:
            fields["nvlink_tx_bytes_per_s"] = self._links_rate(
                answered, pynvml.NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_TX
            )
            fields["nvlink_rx_bytes_per_s"] = self._links_rate(
                answered, pynvml.NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_RX
            )
            for field_id, name in NVLINK_ERROR_FIELDS.items():
                errors = _value(answered, field_id)
                fields[name] = int(errors) if errors is not None else None
        return fields

    def _rate(self, answered: dict[FieldRequest, Any], key: FieldRequest) -> float | None:
        entry = answered.get(key)
        if entry is None:
            return None
        value = field_value(entry)
        if value is None:
            return None
        # The driver stamps each value in microseconds; our own clock stands in where it does not.
        at_s = entry.timestamp / 1e6 if entry.timestamp else self._clock()
        bits = 32 if entry.valueType == pynvml.NVML_VALUE_TYPE_UNSIGNED_INT else 64
        return self._rates[key].update(value, at_s, bits)

    def _links_rate(self, answered: dict[FieldRequest, Any], field_id: int) -> float | None:
        rates = [self._rate(answered, (field_id, link)) for link in range(self._capabilities.nvlink_links)]
        known = [rate for rate in rates if rate is not None]
        return sum(known) * KIB if known else None


def _value(answered: dict[FieldRequest, Any], key: FieldRequest) -> float | None:
    entry = answered.get(key)
    return field_value(entry) if entry is not None else None
