"""What the deployment tests share: the repository root, and a PATH that looks like a machine without
Node.js (every program of the real PATH except Node's)."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
NODE_PROGRAMS = frozenset({"node", "nodejs", "npm", "npx", "corepack"})


def path_without_node(folder: Path) -> str:
    """A PATH of one folder holding links to every program on the current PATH but Node's, so a build
    or a service started with it behaves as on a machine where Node.js was never installed."""
    folder.mkdir(parents=True, exist_ok=True)
    for entry in os.environ.get("PATH", "").split(os.pathsep):
        directory = Path(entry)
        if not directory.is_dir():
            continue
        for program in directory.iterdir():
            link = folder / program.name
            if program.name in NODE_PROGRAMS or link.exists() or link.is_symlink():
                continue
            if program.is_file() and os.access(program, os.X_OK):
                link.symlink_to(program)
    return str(folder)
