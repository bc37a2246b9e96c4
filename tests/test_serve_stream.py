"""The live stream's incremental mode through a real ``gpu-sentinel serve``, as the dashboard uses it."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import httpx
import orjson
import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from gpu_sentinel import json_delta
from tests.server import running_server

T = TypeVar("T")


def run_on_own_thread(coroutine: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` where no other event loop runs: the browser tests' Playwright keeps one on the main
    thread for the rest of the run."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with running_server(["--simulate", "8", "--poll-interval", "0.1"]) as url:
        yield url.replace("http://", "ws://") + "/api/v1/stream"


async def _receive(ws: ClientConnection, kinds: set[str]) -> dict[str, Any]:
    async with asyncio.timeout(10):
        while True:
            message = orjson.loads(await ws.recv())
            if message["type"] in kinds:
                return message


async def _compare(url: str) -> tuple[list[dict[str, Any]], dict[int, dict[str, Any]], list[int]]:
    """Replay deltas next to a full-frame subscriber; also ask for a resync half-way."""
    full: dict[int, dict[str, Any]] = {}
    sizes: list[int] = []
    replica: list[dict[str, Any]] = []
    async with (
        websockets.connect(f"{url}?mode=delta", max_size=None) as incremental,
        websockets.connect(url, max_size=None) as plain,
    ):

        async def collect_full() -> None:
            while True:
                frame = await _receive(plain, {"snapshot"})
                full[frame["seq"]] = frame

        collector = asyncio.create_task(collect_full())
        first = await _receive(incremental, {"snapshot"})
        replica.append(first)
        for count in range(30):
            if count == 15:
                await incremental.send('{"type": "resync"}')
            text = await incremental.recv()
            message = orjson.loads(text)
            if message["type"] == "delta":
                assert message["base_seq"] == replica[-1]["seq"]
                replica.append(json_delta.apply(replica[-1], message["patch"]))
                assert replica[-1]["seq"] == message["seq"]
                sizes.append(len(text))
            elif message["type"] == "snapshot":
                replica.append(message)
        await asyncio.sleep(0.3)
        collector.cancel()
        await asyncio.gather(collector, return_exceptions=True)
    return replica, full, sizes


def test_incremental_stream_rebuilds_the_full_frames_exactly(server: str) -> None:
    replica, full, sizes = run_on_own_thread(_compare(server))
    common = [frame for frame in replica if frame["seq"] in full]
    assert len(common) >= 20, "both subscribers saw the same snapshots"
    for frame in common:
        assert orjson.dumps(frame) == orjson.dumps(full[frame["seq"]])
    assert len(replica[-1]["gpus"]) == 8
    seqs = [frame["seq"] for frame in replica]
    assert seqs == sorted(seqs) and len(set(seqs)) >= len(seqs) - 1  # the resync may repeat one
    full_size = max(len(orjson.dumps(frame)) for frame in common)
    assert max(sizes) * 2 < full_size, "a delta is a fraction of the frame it stands for"


async def _after_resync(url: str) -> tuple[list[str], list[str]]:
    async with websockets.connect(f"{url}?mode=delta", max_size=None) as ws:
        before = [(await _receive(ws, {"snapshot", "delta"}))["type"] for _ in range(3)]
        await ws.send('{"type": "resync"}')
        after: list[str] = []
        while "snapshot" not in after[-1:]:  # a frame already on its way may come first
            after.append((await _receive(ws, {"snapshot", "delta"}))["type"])
        after.append((await _receive(ws, {"snapshot", "delta"}))["type"])
    return before, after


def test_a_resync_request_is_answered_with_a_full_frame(server: str) -> None:
    before, after = run_on_own_thread(_after_resync(server))
    assert before == ["snapshot", "delta", "delta"]
    assert after[-2:] == ["snapshot", "delta"] and len(after) <= 4


def test_an_unknown_mode_is_refused_with_what_is_allowed(server: str) -> None:
    url = server.replace("ws://", "http://") + "?mode=patch"
    response = httpx.get(
        url,
        headers={
            "Connection": "Upgrade",
            "Upgrade": "websocket",
            "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        },
    )
    assert response.status_code == 400
    assert response.json()["detail"] == "mode: expected full or delta (got 'patch')"
