"""What one registry entry says about a reading, and how each consumer converts it.

Every consumer (history, alerts, Prometheus, the API) reads the same base value from a sample through
``Metric.read`` and applies only its own scale, so a unit is converted in exactly one place.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

Scope = Literal["gpu", "host", "process", "filesystem", "cpu_core", "mig", "node"]
"""Which record a reading comes from; ``mig`` and ``node`` are reserved for MIG instances and fleets."""

Format = Literal[
    "percent",
    "bytes",
    "celsius",
    "watts",
    "joules",
    "mhz",
    "bytes_per_s",
    "count",
    "seconds",
    "flag",
    "bitmask",
    "number",
]
"""How the dashboard renders the base value."""

PrometheusType = Literal["gauge", "counter"]
SQLType = Literal["REAL", "BIGINT"]
Rollup = Literal["mean", "last"]
Rounding = Literal["none", "floor", "nearest"]
Value = float | int | None
Reader = Callable[[Any], Value]
LabelsOf = Callable[[float], tuple[str, ...]]
"""Values of a family's own labels, derived from the exported value (XID code to ``err_code``/``err_msg``)."""


def attr(name: str) -> Reader:
    """Reads one field of a record as it is."""

    def read(record: object) -> Value:
        value: Value = getattr(record, name)
        return value

    return read


def convert(value: Value, scale: float, digits: int | None = None) -> Value:
    """``value`` times ``scale``, rounded to ``digits``; integers pass through untouched at scale 1."""
    if value is None:
        return None
    if scale != 1.0:
        value = value * scale
    if digits is not None:
        value = round(value, digits)
    return value


@dataclass(frozen=True, slots=True)
class History:
    """A history column. ``name`` is the trends API's metric name (spec 003 where it fixes one).

    ``rollup`` folds the snapshots of one second into its raw row: ``mean`` for levels, ``last`` for
    cumulative counters (a mean of a counter is a value it never had). Every rollup tier then keeps
    avg/min/max; for a counter min and max are its values at the bucket's edges, so the increase over
    any bucket is exactly ``max - min``.
    """

    name: str
    column: str
    unit: str
    scale: float = 1.0
    sql_type: SQLType = "REAL"
    rollup: Rollup = "mean"
    chart: bool = False


@dataclass(frozen=True, slots=True)
class Alert:
    """A name alert rules use, in its own unit; ``event`` marks state flags rather than levels."""

    name: str
    unit: str
    scale: float = 1.0
    event: bool = False


@dataclass(frozen=True, slots=True)
class Prometheus:
    """An exported family. ``every_gpu`` families are written for lost GPUs too (their state);
    ``labels`` are written after the scope's labels, with values from ``labels_of``; ``opt_in``
    families only where a setting asks for them (per-PID series)."""

    name: str
    type: PrometheusType
    unit: str
    scale: float = 1.0
    rounding: Rounding = "none"
    every_gpu: bool = False
    labels: tuple[str, ...] = ()
    labels_of: LabelsOf | None = None
    opt_in: bool = False


@dataclass(frozen=True, slots=True)
class Api:
    """Where the reading appears in the REST and stream responses (dotted path) and in what unit."""

    field: str
    unit: str
    scale: float = 1.0
    digits: int | None = None


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Where a level stops being fine, in the unit of the reading's API field (and alert name): the
    dashboard colours a value from ``warning`` on yellow and from ``critical`` on red, and the built-in
    alert rule of the reading, if any, fires at ``critical`` and clears below ``warning``."""

    warning: float
    critical: float


@dataclass(frozen=True, slots=True)
class Metric:
    """One reading, declared once. ``read`` returns it in base units (bytes, watts, seconds...) or
    ``None`` when the hardware cannot report it."""

    key: str
    scope: Scope
    unit: str
    help: str
    label: str
    format: Format
    read: Reader
    history: History | None = None
    alert: Alert | None = None
    prometheus: Prometheus | None = None
    api: Api | None = None
    thresholds: Thresholds | None = None
    also: tuple[Prometheus, ...] = ()
    """Further families the same reading is exported under (names dcgm-exporter used before); only
    beside a main ``prometheus`` family."""

    @property
    def families(self) -> tuple[Prometheus, ...]:
        """Every family this reading is exported as, the main one first."""
        return () if self.prometheus is None else (self.prometheus, *self.also)

    def alert_value(self, record: Any) -> float | None:
        assert self.alert is not None, self.key
        value = convert(self.read(record), self.alert.scale)
        return None if value is None else float(value)

    def prometheus_value(self, record: Any, spec: Prometheus | None = None) -> float | None:
        """The value for ``spec`` (the main family unless given)."""
        spec = spec or self.prometheus
        assert spec is not None, self.key
        value = convert(self.read(record), spec.scale)
        if value is None:
            return None
        if spec.rounding == "floor":
            return float(math.floor(value))
        if spec.rounding == "nearest":
            return float(round(value))
        return float(value)

    def api_value(self, record: Any) -> Value:
        assert self.api is not None, self.key
        return convert(self.read(record), self.api.scale, self.api.digits)

    def describe(self) -> str:
        """The API field's documentation: the help text with the unit the API reports it in."""
        unit = self.api.unit if self.api is not None else self.unit
        return f"{self.help} ({unit})." if unit else f"{self.help}."
