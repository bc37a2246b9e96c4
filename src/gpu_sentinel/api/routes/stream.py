"""``WebSocket /api/v1/stream``: live snapshots and alert events pushed to the dashboard.

Query parameters: ``gpus=0,1`` (default all), ``fields=utilization,memory,...`` (GPU metric names, plus
``processes`` and ``system`` for those sections; default everything), ``rate=HZ`` (at most the sampler's
rate), ``mode=full|delta`` (default full: every frame whole; delta: a full frame, then ``delta`` frames of
what changed, see ``gpu_sentinel.stream``; a client that loses track sends ``{"type": "resync"}``). On a
hub, ``node=NAME`` (or id) streams that node's states as the hub hears of them instead, with ``gpus=``
and ``mode=`` as the only other parameters. Authentication happens before the handshake (see
``api/security.py``); a token travels as the subprotocols ``bearer, <token>``, never in the URL, which
servers and proxies log.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from gpu_sentinel.api.errors import error_response
from gpu_sentinel.api.routes.fleet import NotAHubError
from gpu_sentinel.api.security import WEBSOCKET_TOKEN_PROTOCOL
from gpu_sentinel.errors import InvalidRequestError, SentinelError
from gpu_sentinel.fleet.query import find_node
from gpu_sentinel.service import Service
from gpu_sentinel.stream import Resync, Send, Subscription

router = APIRouter(prefix="/api/v1", tags=["stream"])

CLOSE_GOING_AWAY = 1001
CLOSE_TRY_AGAIN_LATER = 1013


def node_stream(
    service: Service, name: str | None, subscription: Subscription
) -> Callable[[Send, Resync], Coroutine[Any, Any, str | None]] | None:
    """With ``node=``, what serves that node's stream (checked before the handshake); else None."""
    if name is None:
        return None
    fleet = service.fleet
    if fleet.source is None or fleet.streams is None:
        raise NotAHubError()
    if subscription.fields is not None or subscription.rate_hz is not None:
        raise InvalidRequestError("node: a node's stream takes gpus= and mode= only, not fields= or rate=")
    found = find_node(fleet.source.nodes, name)
    streams, gpus, delta = fleet.streams, subscription.gpus, subscription.delta
    return lambda send, resync: streams.serve(send, found, gpus, delta=delta, resync=resync)


MAX_CLIENT_MESSAGE_CHARS = 256  # a resync request is ~20; anything longer is not one


def _asks_resync(text: str | None) -> bool:
    if text is None or len(text) > MAX_CLIENT_MESSAGE_CHARS:
        return False
    try:
        message = json.loads(text)
    except ValueError:
        return False
    return isinstance(message, dict) and message.get("type") == "resync"


async def _drain(websocket: WebSocket, resync: Resync) -> None:
    """Read what the client sends: a resync request, or nothing (to notice when it goes away)."""
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            if _asks_resync(message.get("text")):
                resync.request()


@router.websocket("/stream")
async def stream(websocket: WebSocket) -> None:
    service: Service = websocket.app.state.service
    hub = service.stream
    params = websocket.query_params
    try:
        subscription = Subscription.parse(
            params.get("gpus"),
            params.get("fields"),
            params.get("rate"),
            hub.max_rate_hz,
            params.get("mode"),
        )
        hub.check_capacity()
        node = node_stream(service, params.get("node"), subscription)
    except SentinelError as exc:
        await websocket.send_denial_response(error_response(exc.status_code, exc.code, exc.detail))
        return
    offered = websocket.scope.get("subprotocols") or []
    await websocket.accept(
        subprotocol=WEBSOCKET_TOKEN_PROTOCOL if WEBSOCKET_TOKEN_PROTOCOL in offered else None
    )
    resync = Resync()
    sender = asyncio.create_task(
        hub.serve(websocket.send_text, subscription, resync)
        if node is None
        else node(websocket.send_text, resync)
    )
    receiver = asyncio.create_task(_drain(websocket, resync))
    done, pending = await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    if sender in done and not sender.cancelled() and sender.exception() is None:
        reason = sender.result()
        code = CLOSE_TRY_AGAIN_LATER if reason == "events_overflow" else CLOSE_GOING_AWAY
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await websocket.close(code, reason)
