"""The built dashboard as the service serves it: the app shell, hashed assets and the service worker."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from gpu_sentinel.api.spa import mount_spa


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    web = tmp_path_factory.mktemp("web")
    (web / "assets").mkdir()
    (web / "index.html").write_text('<!doctype html><script src="/assets/index-abc123.js"></script>')
    (web / "assets" / "index-abc123.js").write_text("console.log('app')")
    (web / "sw.js").write_text("self.addEventListener('fetch', () => {});")
    app = FastAPI()
    mount_spa(app, web)
    with TestClient(app) as test_client:
        yield test_client


def test_the_service_worker_is_served_uncached_as_javascript_for_the_whole_site(
    client: TestClient,
) -> None:
    response = client.get("/sw.js", headers={"Accept": "*/*", "Service-Worker": "script"})
    assert response.status_code == 200
    assert response.text.startswith("self.addEventListener")
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["service-worker-allowed"] == "/"


def test_hashed_assets_are_immutable_and_the_shell_revalidates(client: TestClient) -> None:
    asset = client.get("/assets/index-abc123.js")
    assert asset.status_code == 200 and "immutable" in asset.headers["cache-control"]
    for path in ("/", "/alerts", "/gpus/3"):
        page = client.get(path, headers={"Accept": "text/html"})
        assert page.status_code == 200 and "index-abc123.js" in page.text
        assert page.headers["cache-control"] == "no-cache"
        assert "service-worker-allowed" not in page.headers


def test_a_build_without_a_worker_answers_404_not_the_page(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<!doctype html>")
    app = FastAPI()
    mount_spa(app, tmp_path)
    with TestClient(app) as client:
        assert client.get("/sw.js", headers={"Accept": "*/*"}).status_code == 404
