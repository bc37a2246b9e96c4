"""The Prometheus text exposition format 0.0.4, written by hand.

Not prometheus_client's writer: it always appends `_total` to a counter's name, and dcgm-exporter types
energy, ECC totals, retired pages, remapped rows, PCIe replays and violation times as counters without
one. Keeping both dcgm's names and its types needs a writer that prints names as given.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from gpu_sentinel.metrics.model import PrometheusType

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
"""Classic text format: what dcgm-exporter serves and every Prometheus version reads."""

LabelValues = tuple[str, ...]


@dataclass(slots=True)
class Family:
    """One metric family: written as a HELP line, a TYPE line and one line per series, in one block.

    ``more`` holds series with label names of their own (a MIG device's carry two more than its GPU's),
    written after ``samples``: the format wants every series of a family in one block.
    """

    name: str
    help: str
    type: PrometheusType
    labels: tuple[str, ...]
    samples: list[tuple[LabelValues, float]] = field(default_factory=list)
    more: list[tuple[tuple[str, ...], LabelValues, float]] = field(default_factory=list)


def merge_families(families: Iterable[Family]) -> Iterator[Family]:
    """One family per name, in first-seen order: a later family of the same name (the same reading of
    another scope) adds its series, with its own label names, to the first."""
    by_name: dict[str, Family] = {}
    for family in families:
        first = by_name.get(family.name)
        if first is None:
            by_name[family.name] = family
            continue
        first.more.extend((family.labels, values, value) for values, value in family.samples)
        first.more.extend(family.more)
    yield from by_name.values()


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))


def _series(name: str, labels: tuple[str, ...], label_values: LabelValues, value: float) -> str:
    if not labels:
        return f"{name} {_number(value)}\n"
    pairs = ",".join(
        f'{label}="{_escape_label(text)}"' for label, text in zip(labels, label_values, strict=True)
    )
    return f"{name}{{{pairs}}} {_number(value)}\n"


def _lines(family: Family) -> Iterator[str]:
    yield f"# HELP {family.name} {_escape_help(family.help)}\n"
    yield f"# TYPE {family.name} {family.type}\n"
    for label_values, value in family.samples:
        yield _series(family.name, family.labels, label_values, value)
    for labels, label_values, value in family.more:
        yield _series(family.name, labels, label_values, value)


def render(families: Iterable[Family]) -> bytes:
    return "".join(line for family in families for line in _lines(family)).encode()
