"""``WebSocket /api/v1/stream``: live snapshots and alert events pushed to the dashboard.

Query parameters: ``gpus=0,1`` (default all), ``fields=utilization,memory,...`` (GPU metric names, plus
``processes`` and ``system`` for those sections; default everything), ``rate=HZ`` (at most the sampler's
rate). Authentication happens before the handshake (see ``api/security.py``); a token can travel as the
``token`` query parameter or as the subprotocols ``bearer, <token>``.
"""

from __future__ import annotations

import asyncio
import contextlib

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from gpu_sentinel.api.errors import error_response
from gpu_sentinel.api.security import WEBSOCKET_TOKEN_PROTOCOL
from gpu_sentinel.errors import SentinelError
from gpu_sentinel.service import Service
from gpu_sentinel.stream import Subscription

router = APIRouter(prefix="/api/v1", tags=["stream"])

CLOSE_GOING_AWAY = 1001
CLOSE_TRY_AGAIN_LATER = 1013


async def _drain(websocket: WebSocket) -> None:
    """Read (and ignore) what the client sends, to notice when it goes away."""
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return


@router.websocket("/stream")
async def stream(websocket: WebSocket) -> None:
    service: Service = websocket.app.state.service
    hub = service.stream
    params = websocket.query_params
    try:
        subscription = Subscription.parse(
            params.get("gpus"), params.get("fields"), params.get("rate"), hub.max_rate_hz
        )
        hub.check_capacity()
    except SentinelError as exc:
        await websocket.send_denial_response(error_response(exc.status_code, exc.code, exc.detail))
        return
    offered = websocket.scope.get("subprotocols") or []
    await websocket.accept(
        subprotocol=WEBSOCKET_TOKEN_PROTOCOL if WEBSOCKET_TOKEN_PROTOCOL in offered else None
    )
    sender = asyncio.create_task(hub.serve(websocket.send_text, subscription))
    receiver = asyncio.create_task(_drain(websocket))
    done, pending = await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    if sender in done and not sender.cancelled() and sender.exception() is None:
        reason = sender.result()
        code = CLOSE_TRY_AGAIN_LATER if reason == "events_overflow" else CLOSE_GOING_AWAY
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await websocket.close(code, reason)
