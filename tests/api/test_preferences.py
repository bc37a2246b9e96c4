"""Each user's saved dashboard layout: their own to read and change, validated, private on disk, and
still there after a restart."""

from __future__ import annotations

import json
import stat
import warnings
from pathlib import Path
from typing import Any

from gpu_sentinel.config import Settings
from gpu_sentinel.preferences import MAX_PREFERENCES_BYTES, PREFERENCES_FILE
from gpu_sentinel.service import Service
from tests.api.conftest import ADMIN, FAST_HASHER, VIEWER, bearer, make_client, secured_service

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from fastapi.testclient import TestClient

URL = "/api/v1/users/me/preferences"
LAYOUT: dict[str, Any] = {
    "single": {"order": ["processes", "utilization", "trends"], "hidden": ["fan", "storage"]},
    "compare": {"order": ["gpu-cards", "trends"], "hidden": []},
}


def test_a_viewer_saves_their_layout_and_reads_it_back(secured: TestClient) -> None:
    viewer = bearer(secured, VIEWER)
    assert secured.get(URL, headers=viewer).json() == {"layout": None, "updated_at": None}

    saved = secured.put(URL, json={"layout": LAYOUT}, headers=viewer)
    assert saved.status_code == 200, saved.text
    read = secured.get(URL, headers=viewer).json()
    assert read["layout"] == LAYOUT
    assert read["updated_at"] == saved.json()["updated_at"] > 0


def test_one_user_never_sees_another_users_layout(secured: TestClient) -> None:
    viewer, admin = bearer(secured, VIEWER), bearer(secured, ADMIN)
    secured.put(URL, json={"layout": LAYOUT}, headers=viewer).raise_for_status()
    assert secured.get(URL, headers=admin).json()["layout"] is None

    admin_layout = {
        "single": {"order": ["health"], "hidden": []},
        "compare": {"order": [], "hidden": ["trends"]},
    }
    secured.put(URL, json={"layout": admin_layout}, headers=admin).raise_for_status()
    assert secured.get(URL, headers=viewer).json()["layout"] == LAYOUT
    assert secured.get(URL, headers=admin).json()["layout"] == admin_layout


def test_a_removed_users_layout_is_dropped_from_the_file(secured: TestClient) -> None:
    viewer, admin = bearer(secured, VIEWER), bearer(secured, ADMIN)
    secured.put(URL, json={"layout": LAYOUT}, headers=viewer).raise_for_status()
    path: Path = secured.app.state.settings.data_dir / PREFERENCES_FILE  # type: ignore[attr-defined]
    assert VIEWER[0] in path.read_text()
    assert secured.delete(f"/api/v1/users/{VIEWER[0]}", headers=admin).status_code == 204
    secured.put(URL, json={"layout": LAYOUT}, headers=admin).raise_for_status()
    assert [record["username"] for record in json.loads(path.read_text()).values()] == [ADMIN[0]]


def test_without_a_token_there_is_no_server_layout(secured: TestClient) -> None:
    assert secured.get(URL).status_code == 401
    assert secured.put(URL, json={"layout": LAYOUT}).status_code == 401


def test_anonymous_readers_are_told_the_browser_keeps_their_layout(client: TestClient) -> None:
    for response in (client.get(URL), client.put(URL, json={"layout": LAYOUT})):
        assert response.status_code == 401
        assert "Sign in" in response.json()["detail"]
    assert not any(client.app.state.settings.data_dir.glob(PREFERENCES_FILE))  # type: ignore[attr-defined]


def refusal(client: TestClient, headers: dict[str, str], body: Any) -> str:
    headers = {**headers, "Content-Type": "application/json"}
    response = client.put(URL, content=json.dumps(body), headers=headers)
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, str) and "\n" not in detail
    return detail


def test_bad_layouts_are_refused_with_one_line_saying_what_is_allowed(secured: TestClient) -> None:
    viewer = bearer(secured, VIEWER)
    unknown_panel = refusal(secured, viewer, {"layout": {"single": {"order": ["utilization", "coffee"]}}})
    assert "layout.single.order.1" in unknown_panel and "'temperature'" in unknown_panel
    assert "coffee" in unknown_panel
    # A compare-only panel is not a panel of the single view.
    compare_only = {"layout": {"single": {"hidden": ["gpu-cards"]}}}
    assert "layout.single.hidden.0" in refusal(secured, viewer, compare_only)
    assert "layout.tiles" in refusal(secured, viewer, {"layout": {"tiles": {}}})
    twice = refusal(secured, viewer, {"layout": {"compare": {"order": ["trends", "storage", "trends"]}}})
    assert "trends appears more than once" in twice
    assert "layout" in refusal(secured, viewer, {"theme": "dark"})

    oversized = {"layout": LAYOUT, "padding": "x" * MAX_PREFERENCES_BYTES}
    too_large = refusal(secured, viewer, oversized)
    assert f"at most {MAX_PREFERENCES_BYTES} are allowed" in too_large
    # Nothing of a refused document was kept.
    assert secured.get(URL, headers=viewer).json()["layout"] is None


def test_a_layout_survives_a_restart_in_a_private_file(secured_settings: Settings) -> None:
    with make_client(secured_settings, secured_service(secured_settings)) as first:
        first.put(URL, json={"layout": LAYOUT}, headers=bearer(first, VIEWER)).raise_for_status()

    path: Path = secured_settings.data_dir / PREFERENCES_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")]

    restarted = Service(secured_settings)
    restarted.auth.users.hasher = FAST_HASHER
    with make_client(secured_settings, restarted) as second:
        assert second.get(URL, headers=bearer(second, VIEWER)).json()["layout"] == LAYOUT


def test_panels_a_later_version_dropped_are_left_out_of_a_saved_layout(secured_settings: Settings) -> None:
    service = secured_service(secured_settings)
    user_id = service.auth.users.get(VIEWER[0]).user_id  # type: ignore[union-attr]
    saved = {"single": {"order": ["retired-panel", "health"], "hidden": ["fan"]}, "dashboard-v9": {}}
    path = secured_settings.data_dir / PREFERENCES_FILE
    path.write_text(json.dumps({user_id: {"username": VIEWER[0], "layout": saved, "updated_at": 1.0}}))

    with make_client(secured_settings, Service(secured_settings)) as client:
        client.app.state.service.auth.users.hasher = FAST_HASHER  # type: ignore[attr-defined]
        layout = client.get(URL, headers=bearer(client, VIEWER)).json()["layout"]
    assert layout["single"] == {"order": ["health"], "hidden": ["fan"]}
    assert layout["compare"] == {"order": [], "hidden": []}


def test_an_unreadable_preferences_file_is_kept_aside_not_overwritten(secured_settings: Settings) -> None:
    path = secured_settings.data_dir / PREFERENCES_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{not json")
    with make_client(secured_settings, secured_service(secured_settings)) as client:
        viewer = bearer(client, VIEWER)
        assert client.get(URL, headers=viewer).json()["layout"] is None
        client.put(URL, json={"layout": LAYOUT}, headers=viewer).raise_for_status()
    kept = list(path.parent.glob(f"{PREFERENCES_FILE}.unreadable-*"))
    assert len(kept) == 1 and kept[0].read_text() == "{not json"
