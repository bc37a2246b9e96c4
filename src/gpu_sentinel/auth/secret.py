"""The JWT signing secret: from the configuration, else generated once and kept in the data directory."""

from __future__ import annotations

import logging
import secrets
from pathlib import Path

from gpu_sentinel.auth.files import tighten_mode, write_private

log = logging.getLogger(__name__)

MIN_SECRET_BYTES = 32
SECRET_FILE = "jwt_secret"


class SecretFileError(Exception):
    """The stored secret is unusable; the message says which file and why."""


def load_or_create_secret(configured: str | None, data_dir: Path) -> bytes:
    """The configured secret (already validated by Settings), else ``data_dir/jwt_secret``, created with
    mode 0600 on first start. A short or empty stored secret is refused rather than silently replaced,
    since replacing it would log everyone out without saying why."""
    if configured:
        return configured.encode()
    path = data_dir / SECRET_FILE
    if not path.exists():
        secret = secrets.token_urlsafe(48).encode()
        try:
            write_private(path, secret)
        except OSError as error:
            # A full or read-only disk must not stop live monitoring; sign-ins just do not outlive a restart.
            log.warning(
                "cannot keep the token signing secret in %s (%s): tokens issued now end at the next restart",
                path,
                error.strerror or error,
            )
            return secret
        log.info("generated a new token signing secret in %s", path)
    elif tighten_mode(path):
        log.warning("%s was readable by other users; its mode is now 0600", path)
    secret = path.read_bytes().strip()
    if len(secret) < MIN_SECRET_BYTES:
        raise SecretFileError(
            f"{path} holds a secret shorter than {MIN_SECRET_BYTES} bytes; delete it to generate a new one"
        )
    return secret
