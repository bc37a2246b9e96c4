"""The stream's JSON delta: applying each delta to the previous frame gives the next frame, byte for byte."""

from __future__ import annotations

import copy
import itertools
import os
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gpu_sentinel import json_delta
from gpu_sentinel.collectors.simulated import SimulatedGPUs
from gpu_sentinel.sampler import Sampler
from gpu_sentinel.snapshot import HostSample
from gpu_sentinel.stream import Subscription, _Frames

scalars = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.floats(allow_nan=False)
scalars |= st.text(max_size=4)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.sampled_from("abcde"), children, max_size=4)
    ),
    max_leaves=20,
)
documents = st.dictionaries(st.sampled_from("abcdefg"), json_values, max_size=6)


def _roundtrip(old: dict[str, Any], new: dict[str, Any]) -> None:
    before = copy.deepcopy(old)
    patch = json_delta.diff(old, new)
    wire = orjson.loads(orjson.dumps(patch))  # what the client gets is the patch as JSON
    assert orjson.dumps(json_delta.apply(old, wire)) == orjson.dumps(new)
    assert old == before, "applying a delta leaves the old document as it was"


@settings(max_examples=400, deadline=None)
@given(documents, documents)
def test_any_document_round_trips(old: dict[str, Any], new: dict[str, Any]) -> None:
    _roundtrip(old, new)


@pytest.mark.parametrize(
    ("old", "new", "patch"),
    [
        ({"a": 1, "b": 2}, {"a": 1, "b": 2}, {}),
        ({"a": 1}, {"a": None}, {"a": None}),  # a reading that became null stays null, not removed
        ({"a": None}, {"a": 3}, {"a": 3}),
        ({"a": 1, "b": 2}, {"a": 1}, {"b": []}),
        ({"a": 1}, {"a": 1, "b": {"c": None}}, {"b": [{"c": None}]}),
        ({"g": [{"u": 1}, {"u": 2}]}, {"g": [{"u": 1}, {"u": 5}]}, {"g": {"1": {"u": 5}}}),
        ({"g": [{"u": 1}, {"u": 2}]}, {"g": [{"u": 1}]}, {"g": [[{"u": 1}]]}),
        ({"a": True}, {"a": 1}, {"a": 1}),  # a change of type is a change, though True == 1
    ],
)
def test_what_a_delta_says(old: dict[str, Any], new: dict[str, Any], patch: dict[str, Any]) -> None:
    assert json_delta.diff(old, new) == patch
    _roundtrip(old, new)


def test_reordered_members_are_reproduced_in_their_new_order() -> None:
    old, new = {"a": 1, "b": 2, "c": 3}, {"c": 3, "a": 1, "b": 2}
    _roundtrip(old, new)
    _roundtrip({"x": old}, {"x": new, "y": None})


class _Host:
    def sample(self, include_slow: bool) -> HostSample:
        return HostSample(hostname="test", cpu_pct=10.0)


def test_stream_frames_round_trip_as_gpus_and_processes_come_and_go() -> None:
    """Real frames from simulated GPUs: readings change every tick, processes start and end, GPUs
    drop out of the frame and return, and unsupported readings are null."""
    clock = itertools.count(1000.0, 0.25)
    sampler = Sampler(
        SimulatedGPUs(4, seed=3, xid_mean_interval_s=5.0),
        _Host(),
        interval_s=0.25,
        slow_interval_s=0.5,
        wall_clock=lambda: next(clock),
    )
    previous: dict[str, Any] | None = None
    seen_null = seen_process_change = seen_gpu_removed = False
    for tick in range(120):
        snapshot = sampler.tick()
        assert snapshot is not None
        gpus = None if tick % 7 else (0, 2)  # every 7th frame lacks two GPUs
        document, text = _Frames(snapshot).rendered_for(Subscription(gpus=gpus))
        assert orjson.loads(text) == document
        if previous is not None:
            _roundtrip(previous, document)
            seen_gpu_removed |= len(document["gpus"]) < len(previous["gpus"])
            old_pids = [p["pid"] for p in previous["gpu_processes"]]
            seen_process_change |= old_pids != [p["pid"] for p in document["gpu_processes"]]
        seen_null |= b"null" in orjson.dumps(document["gpus"])
        previous = document
    assert seen_null and seen_process_change and seen_gpu_removed


def test_a_delta_of_a_busy_frame_is_a_fraction_of_it() -> None:
    """What incremental mode is for: between two ticks most of a frame (names, totals, limits) stays."""
    clock = itertools.count(1000.0, 0.25)
    sampler = Sampler(
        SimulatedGPUs(8, seed=1),
        _Host(),
        interval_s=0.25,
        slow_interval_s=1.0,
        wall_clock=lambda: next(clock),
    )
    frames = []
    for _ in range(3):
        snapshot = sampler.tick()
        assert snapshot is not None
        frames.append(_Frames(snapshot).rendered_for(Subscription()))
    (old, _), (new, text) = frames[1], frames[2]
    assert len(orjson.dumps(json_delta.diff(old, new))) * 3 < len(text)


DASHBOARD_FIXTURE = Path(__file__).resolve().parent.parent / "web" / "tests" / "streamDeltas.json"


def _fixture_frames() -> list[dict[str, Any]]:
    """Deterministic frames of two simulated GPUs, one of which leaves the frame and comes back."""
    clock = itertools.count(1000.0, 0.25)
    sampler = Sampler(
        SimulatedGPUs(2, seed=8, xid_mean_interval_s=1e12),
        _Host(),
        interval_s=0.25,
        slow_interval_s=0.5,
        wall_clock=lambda: next(clock),
        monotonic=lambda: next(clock),
    )
    documents = []
    for tick in range(6):
        snapshot = sampler.tick()
        assert snapshot is not None
        subscription = Subscription(gpus=(1,) if tick == 3 else None)
        documents.append(_Frames(snapshot).rendered_for(subscription)[0])
    return documents


def test_the_dashboard_applies_the_same_deltas() -> None:
    """``web/tests/streamDeltas.json`` holds frames and the deltas between them, as the server makes
    them; the dashboard's tests apply them. ``UPDATE_FIXTURES=1`` rewrites it after a format change."""
    frames = _fixture_frames()
    cases = [
        {"old": old, "new": new, "patch": json_delta.diff(old, new)}
        for old, new in itertools.pairwise(frames)
    ]
    for case in cases:
        assert orjson.dumps(json_delta.apply(case["old"], case["patch"])) == orjson.dumps(case["new"])
    text = orjson.dumps(cases).decode() + "\n"
    if os.environ.get("UPDATE_FIXTURES"):
        DASHBOARD_FIXTURE.write_text(text)
    assert orjson.loads(DASHBOARD_FIXTURE.read_text()) == orjson.loads(text)


def test_a_zero_that_changes_sign_is_a_change() -> None:
    """-0.0 == 0.0 in Python, yet the frames differ as JSON text."""
    for old, new in (({"a": 0.0}, {"a": -0.0}), ({"a": [0.0]}, {"a": [-0.0]}), ({"a": 1}, {"a": 1})):
        _roundtrip(old, new)
