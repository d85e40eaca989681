"""The transparency log's signing key: an Ed25519 key in a PKCS#8 PEM file, made on first use.

The key signs every checkpoint the log hands out; witnesses pin its verifier key
(``GET /v1/log/key``), so it must outlive restarts and never change silently: it is made once,
then only read. It is written to a fresh file created with mode 0600 (``O_CREAT | O_EXCL``: never
through an existing file or a planted link) and linked into place only once complete, so two
processes starting together agree on one key and neither reads a half-written file. A key file
that others can read is refused, as ssh refuses one.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from schemas.credential import load_private_pem, new_key, private_pem
from traceability.errors import SetupError

_PRIVATE = 0o600


def log_key(path: Path, *, create: bool = True) -> Ed25519PrivateKey:
    """The log's signing key in ``path``, made there first if there is none and ``create`` is set.

    Raises:
        SetupError: the file is not an unencrypted Ed25519 PKCS#8 PEM, can be read by others
            (group or world), cannot be read or written, or is missing and ``create`` is not set.
    """
    try:
        return _read(path)
    except FileNotFoundError:
        if not create:
            raise SetupError(f"no log signing key at {path} (LOTLINE_LOG_KEY_FILE); `lotline log checkpoint` "
                             "or the API makes one, or pass the log's verifier key") from None
    key = new_key()
    try:
        _create(path, private_pem(key))
    except FileExistsError:  # another process made it meanwhile: theirs is the key
        return _read(path)
    return key


def _read(path: Path) -> Ed25519PrivateKey:
    try:
        mode, pem = path.stat().st_mode, path.read_bytes()
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise SetupError(f"cannot read the log signing key {path}: {exc.strerror}") from None
    if mode & 0o077:
        raise SetupError(f"the log signing key {path} can be read by others (mode {mode & 0o777:o}); chmod 600 it")
    try:
        return load_private_pem(pem)
    except SetupError as exc:
        raise SetupError(f"the log signing key {path}: {exc}") from None


def _create(path: Path, pem: bytes) -> None:
    """``pem`` in ``path``, complete before the name exists (``os.link`` fails if it does)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fresh = path.with_name(f".{path.name}.{secrets.token_hex(8)}.new")
        fd = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _PRIVATE)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(pem)
                out.flush()
                os.fsync(out.fileno())
            os.link(fresh, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                fresh.unlink()
    except FileExistsError:
        raise
    except OSError as exc:
        raise SetupError(f"cannot write the log signing key {path}: {exc.strerror}") from None
