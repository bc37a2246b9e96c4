"""A node's identity survives restarts and host renames, and a damaged id file is replaced."""

from __future__ import annotations

import socket
import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from gpu_sentinel.config import Settings, describe_validation_error
from gpu_sentinel.node import NODE_ID_FILE, load_node_identity


def test_the_id_is_made_once_and_kept(tmp_path: Path) -> None:
    first = load_node_identity(tmp_path)
    again = load_node_identity(tmp_path, "renamed-host")
    assert first.id == again.id and len(first.id) == 32
    assert first.name == socket.gethostname() and again.name == "renamed-host"
    assert stat.S_IMODE((tmp_path / NODE_ID_FILE).stat().st_mode) == 0o600


def test_two_data_directories_are_two_nodes(tmp_path: Path) -> None:
    assert load_node_identity(tmp_path / "a").id != load_node_identity(tmp_path / "b").id


def test_a_damaged_id_file_is_replaced(tmp_path: Path) -> None:
    (tmp_path / NODE_ID_FILE).write_text("not an id\n")
    identity = load_node_identity(tmp_path)
    assert (tmp_path / NODE_ID_FILE).read_text().strip() == identity.id != "not an id"


def test_node_name_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GPU_SENTINEL_NODE_NAME", "gpu-07.rack2")
    assert Settings().node_name == "gpu-07.rack2"


def test_a_bad_node_name_says_what_is_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GPU_SENTINEL_NODE_NAME", "gpu 07/rack")
    with pytest.raises(ValidationError) as refused:
        Settings()
    message = describe_validation_error(refused.value)
    assert message.startswith("invalid setting GPU_SENTINEL_NODE_NAME: ") and "gpu 07/rack" in message
