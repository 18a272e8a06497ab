"""Secrets for the embedded (development and demo) default.

In production every secret comes from the environment (or a ``*_FILE``); on a
developer's machine they are generated once into ``var/secrets/`` so that data
encrypted yesterday can still be read today.
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path


def local_secret(var_dir: Path, name: str, nbytes: int = 32) -> str:
    """Return the secret stored in ``var/secrets/<name>``, creating it on first use."""
    directory = var_dir / "secrets"
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = directory / name
    if not path.exists():
        value = base64.urlsafe_b64encode(secrets.token_bytes(nbytes)).decode()
        # O_EXCL: two processes starting together must not both write different keys.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_text().strip()
        with os.fdopen(fd, "w") as handle:
            handle.write(value)
        return value
    return path.read_text().strip()
