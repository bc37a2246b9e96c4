"""Serve many from one sample at the HTTP layer: a snapshot-scoped response cache in front of FastAPI.

A live endpoint's answer only changes when the sampler publishes a new snapshot (4 times a second), yet
dashboards may ask hundreds of times a second. The first request for a path and query goes through
FastAPI (validation, errors, rendering); its 200 response is kept, marked with the snapshot it came
from, and every later identical request for the same snapshot is answered straight from this raw ASGI
layer. Errors are never cached, and the cache is emptied whenever a newer snapshot appears.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gpu_sentinel.snapshot import Snapshot

SNAPSHOT_HEADER = b"x-snapshot-seq"
MAX_ENTRIES = 256

CachedResponse = tuple[list[tuple[bytes, bytes]], bytes]


class SnapshotResponseCache:
    """ASGI middleware for GET requests under ``prefix`` whose responses carry ``X-Snapshot-Seq``."""

    def __init__(self, app: ASGIApp, latest: Callable[[], Snapshot | None], prefix: str) -> None:
        self.app = app
        self._latest = latest
        self._prefix = prefix
        self._seq: int | None = None
        self._entries: dict[tuple[str, bytes], CachedResponse] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or not scope["path"].startswith(self._prefix):
            await self.app(scope, receive, send)
            return
        snapshot = self._latest()
        if snapshot is not None and snapshot.seq != self._seq:
            self._seq = snapshot.seq
            self._entries = {}
        key = (scope["path"], scope["query_string"])
        cached = self._entries.get(key)
        if cached is not None:
            headers, body = cached
            await send({"type": "http.response.start", "status": 200, "headers": list(headers)})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, self._recording(key, send))

    def _recording(self, key: tuple[str, bytes], send: Send) -> Send:
        """Pass the response through, keeping it when it is a 200 of the current snapshot."""
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def send_and_record(message: Message) -> None:
            if message["type"] == "http.response.start":
                # Copied before sending: outer middlewares (CORS, security headers) add their headers
                # to the message in place, and those depend on the request, not the snapshot.
                start.update(message, headers=list(message.get("headers", ())))
                await send(message)
                return
            if message["type"] != "http.response.body" or start.get("status") != 200:
                await send(message)
                return
            # Kept before sending, for the same reason: GZip rewrites the body of the message in place.
            chunks.append(message.get("body", b""))
            await send(message)
            if message.get("more_body"):
                return
            headers = start["headers"]
            seq = dict(headers).get(SNAPSHOT_HEADER)
            if seq is not None and int(seq) == self._seq and len(self._entries) < MAX_ENTRIES:
                self._entries[key] = (headers, b"".join(chunks))

        return send_and_record
