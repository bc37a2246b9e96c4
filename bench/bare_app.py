"""A bare Starlette app that answers ``/api/v1/system/monitoring/all`` with a fixed payload.

It is served by the same uvicorn, with the same settings, as ``gpu-sentinel serve`` (``cli.serve``):
default loop and HTTP implementation (uvloop and httptools where installed), no access log, no
``server`` header. With a payload of the same size as the service's answer it shows what one Python
server process on this machine can do at best, so the benchmark can tell how much the service itself costs.

    .venv/bin/python bench/bare_app.py --payload body.json --port 8000
"""

from __future__ import annotations

import argparse
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

PATH = "/api/v1/system/monitoring/all"


def create_app(payload: bytes) -> Starlette:
    async def monitoring_all(request: Request) -> Response:
        return Response(payload, media_type="application/json")

    return Starlette(routes=[Route(PATH, monitoring_all)])


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve a fixed JSON payload the way gpu-sentinel is served.")
    parser.add_argument("--payload", type=Path, required=True, help="file whose bytes are the response body")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args()
    uvicorn.run(
        create_app(args.payload.read_bytes()),
        host=args.host,
        port=args.port,
        log_config=None,
        log_level=args.log_level,
        access_log=False,
        server_header=False,
    )


if __name__ == "__main__":
    main()
