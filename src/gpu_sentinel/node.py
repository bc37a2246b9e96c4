"""Who this node is in a fleet: a name people read, and an id that outlives renames of the host.

The id is made once per data directory and kept in it, so a node keeps its history when its host name
changes, and two hosts that share a name stay two nodes.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import socket
import uuid
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

NODE_ID_FILE = "node_id"
MACHINE_ID_FILES = (Path("/etc/machine-id"), Path("/var/lib/dbus/machine-id"))
_NODE_ID = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True, slots=True)
class NodeIdentity:
    id: str
    """32 lower-case hex digits, stable for the life of the data directory."""
    name: str


def load_node_identity(
    data_dir: Path, name: str | None = None, machine_id_files: tuple[Path, ...] = MACHINE_ID_FILES
) -> NodeIdentity:
    """This node's identity, making its id on first use; ``name`` defaults to the host name.

    When the id file cannot be written (a full or read-only data disk at first start), the id is derived
    from the machine's id and the data directory instead, so sampling and live metrics still run and the
    same machine comes back as the same node until the file can be kept."""
    path = data_dir / NODE_ID_FILE
    try:
        node_id = _read_or_make_id(path)
    except OSError as error:
        node_id = derived_id(data_dir, machine_id_files)
        log.warning(
            "cannot keep the node id in %s (%s); using %s, derived from this machine",
            path,
            error.strerror or error,
            node_id,
        )
    return NodeIdentity(id=node_id, name=name or socket.gethostname())


def read_node_identity(data_dir: Path, name: str | None = None) -> NodeIdentity:
    """The identity ``load_node_identity`` gives, made without writing anything (for read-only commands)."""
    try:
        existing = (data_dir / NODE_ID_FILE).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        existing = ""
    node_id = existing if _NODE_ID.match(existing) else derived_id(data_dir)
    return NodeIdentity(id=node_id, name=name or socket.gethostname())


def derived_id(data_dir: Path, machine_id_files: tuple[Path, ...] = MACHINE_ID_FILES) -> str:
    """The same 32 hex digits for the same machine and data directory, and others elsewhere."""
    machine = ""
    for candidate in machine_id_files:
        try:
            machine = candidate.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            continue
        if machine:
            break
    seed = f"{machine or socket.gethostname()}\0{data_dir.resolve()}"
    return hashlib.sha256(seed.encode()).hexdigest()[:32]


def _read_or_make_id(path: Path) -> str:
    try:
        existing = path.read_text(encoding="ascii").strip()
    except (FileNotFoundError, UnicodeDecodeError):
        existing = ""
    if _NODE_ID.match(existing):
        return existing
    node_id = uuid.uuid4().hex
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as file:
            file.write(node_id + "\n")
            file.flush()
            os.fsync(file.fileno())
        os.replace(partial, path)
    except OSError:
        partial.unlink(missing_ok=True)
        raise
    return node_id
