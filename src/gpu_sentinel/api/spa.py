"""Serves the built dashboard (``gpu_sentinel/web``, made from ``web/`` by the build hook) at ``/``.

The SPA is the router's fallback, not a catch-all route, so it never shadows an API route however late
that route is added: any GET that no route matched gets the file it names, or ``index.html`` so the
dashboard's own client-side routing works. Unknown API paths keep their JSON 404.

``/sw.js`` is the dashboard's service worker (``web/src/sw/worker.js``): served uncached, since browsers
compare it byte for byte to find a new version, as JavaScript, and allowed to control the whole site.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from fastapi import FastAPI
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.staticfiles import PathLike, StaticFiles
from starlette.types import Receive, Scope, Send

DEFAULT_WEB_DIR = Path(__file__).resolve().parent.parent / "web"
API_PREFIXES = ("/api/", "/api")
# Vite puts a content hash in every asset name, so an asset never changes under its name.
IMMUTABLE_CACHE = "public, max-age=31536000, immutable"
# index.html names the current assets: browsers must check it on every load.
REVALIDATE_CACHE = "no-cache"
SERVICE_WORKER_PATH = "/sw.js"
SERVICE_WORKER_HEADERS = {"Cache-Control": REVALIDATE_CACHE, "Service-Worker-Allowed": "/"}
JAVASCRIPT = "text/javascript; charset=utf-8"

NOT_BUILT_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>GPU Sentinel</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; line-height: 1.5">
<h1>GPU Sentinel is running</h1>
<p>The API is up (<a href="/docs">/docs</a>), but this installation has no built dashboard.
Install from a source tree with Node.js and npm available (<code>pip install .</code> runs the web build),
or build it by hand: <code>cd web &amp;&amp; npm ci &amp;&amp; npm run build</code>.</p>
</body></html>
"""


class ImmutableStaticFiles(StaticFiles):
    """Static files with a year-long cache: for content-hashed assets only."""

    def file_response(
        self, full_path: PathLike, stat_result: os.stat_result, scope: Scope, status_code: int = 200
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["Cache-Control"] = IMMUTABLE_CACHE
        return response


class SPAFallback:
    """The router's default app: static files from the web directory, else ``index.html``."""

    def __init__(self, web_dir: Path) -> None:
        self.web_dir = web_dir.resolve()
        self.index = self.web_dir / "index.html"

    def _file_for(self, path: str) -> Path | None:
        candidate = (self.web_dir / path.lstrip("/")).resolve()
        if candidate.is_relative_to(self.web_dir) and candidate.is_file():
            return candidate
        return None

    @staticmethod
    def _wants_page(path: str, accept: str) -> bool:
        """A client-side route (no file extension) or a browser asking for a page."""
        return "." not in PurePosixPath(path).name or "text/html" in accept

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "/")
        method: str = scope.get("method", "GET")
        if scope["type"] != "http" or method not in ("GET", "HEAD") or path.startswith(API_PREFIXES):
            raise HTTPException(status_code=404)
        response: Response
        if not self.index.is_file():
            response = HTMLResponse(NOT_BUILT_PAGE, headers={"Cache-Control": REVALIDATE_CACHE})
        elif (file := self._file_for(path)) is not None and file != self.index:
            if path == SERVICE_WORKER_PATH:
                response = FileResponse(file, media_type=JAVASCRIPT, headers=SERVICE_WORKER_HEADERS)
            else:
                response = FileResponse(file, headers={"Cache-Control": REVALIDATE_CACHE})
        elif self._wants_page(path, Headers(scope=scope).get("accept", "")):
            response = FileResponse(self.index, headers={"Cache-Control": REVALIDATE_CACHE})
        else:
            # A missing script or image must not come back as HTML with a 200.
            raise HTTPException(status_code=404)
        await response(scope, receive, send)


def mount_spa(app: FastAPI, web_dir: Path | None = None) -> None:
    """Serve the dashboard from ``web_dir`` (default: the package's built ``web`` directory)."""
    web_dir = web_dir or DEFAULT_WEB_DIR
    assets = web_dir / "assets"
    if assets.is_dir():
        app.mount("/assets", ImmutableStaticFiles(directory=assets), name="spa-assets")
    app.router.default = SPAFallback(web_dir)
