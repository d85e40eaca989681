"""Signed checkpoints: C2SP signed notes (https://c2sp.org/signed-note) with Ed25519.

A signed note is its text (ending in a newline), a blank line, then one line per signature:
``— <key name> <base64(key ID || signature)>``. The key ID is the first four bytes of
``SHA-256(name || 0x0A || 0x01 || public key)``; the signature is Ed25519 (RFC 8032) over the
text's UTF-8 bytes. Lines by keys a reader does not know are ignored, so witnesses can cosign the
same checkpoint and a log can rotate its key. The format and the key ID are checked against the
published vectors of golang.org/x/mod's ``sumdb/note``, the reference implementation.

The cryptography is the ``cryptography`` package's; the checkpoint body itself is the core's
(``traceability.transparency``), which imports no third-party library.
"""

from __future__ import annotations

import base64
import binascii
import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from traceability.errors import InvalidEvent
from traceability.transparency import Checkpoint, parse_checkpoint_body

ED25519 = b"\x01"  # the signature type byte C2SP assigns to Ed25519
_DASH = "\u2014 "  # em dash, space: how a signature line starts
#: The spec asks readers to accept at least 16 signatures and to bound them; x/mod stops at 100.
MAX_SIGNATURES = 100


def key_id(name: str, public_key: Ed25519PublicKey) -> bytes:
    """The 4-byte key ID: ``SHA-256(name || 0x0A || 0x01 || 32-byte public key)[:4]``."""
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + public_key.public_bytes_raw()).digest()[:4]


def sign_note(text: str, name: str, private_key: Ed25519PrivateKey) -> str:
    """``text`` with one signature line by ``name``'s key.

    Raises:
        InvalidEvent: ``text`` does not end in a newline or holds a control character other
            than newline, or ``name`` is not a valid key name.
    """
    if not text.endswith("\n") or not _is_note_text(text):
        raise InvalidEvent("note text: must end with a newline and hold no other control character")
    _check_name(name)
    signature = key_id(name, private_key.public_key()) + private_key.sign(text.encode())
    return f"{text}\n{_DASH}{name} {base64.b64encode(signature).decode('ascii')}\n"


def open_note(signed: str, name: str, public_key: Ed25519PublicKey) -> str:
    """The text of ``signed``, once a signature line of ``name``'s key verifies over it.

    Lines of other keys (another name, or the same name with another key ID) are ignored, as the
    spec requires. A line of this key that does not verify rejects the note, as the spec advises.

    Raises:
        InvalidEvent: The note is malformed, has no line of this key, or one that does not verify.
    """
    text, lines = _split_note(signed)
    wanted = key_id(name, public_key)
    verified = False
    for line_name, signature in lines:
        if line_name != name or signature[:4] != wanted:
            continue
        try:
            public_key.verify(signature[4:], text.encode())
        except InvalidSignature:
            raise InvalidEvent(f"signed note: the signature of {name} does not verify") from None
        verified = True
    if not verified:
        raise InvalidEvent(f"signed note: not signed by {name}+{wanted.hex()}")
    return text


def verifier_key_text(name: str, public_key: Ed25519PublicKey) -> str:
    """The C2SP verifier key: ``<name>+<hex key ID>+<base64(0x01 || public key)>``."""
    _check_name(name)
    key = base64.b64encode(ED25519 + public_key.public_bytes_raw()).decode("ascii")
    return f"{name}+{key_id(name, public_key).hex()}+{key}"


def parse_verifier_key(vkey: str) -> tuple[str, Ed25519PublicKey]:
    """The key name and Ed25519 public key of a C2SP verifier key, its key ID checked.

    Raises:
        InvalidEvent: Not ``name+keyid+key``, not an Ed25519 key, or a key ID that is not the
            one of that name and key.
    """
    parts = vkey.split("+", 2)  # base64 has '+' too: the name and the ID have none
    if len(parts) != 3 or len(parts[1]) != 8:
        raise InvalidEvent("verifier key: expected <name>+<8 hex digits>+<base64 key>")
    name, hex_id, key64 = parts
    _check_name(name)
    raw = _b64(key64, "verifier key")
    if len(raw) != 33 or raw[:1] != ED25519:
        raise InvalidEvent("verifier key: not an Ed25519 key (type 0x01 and 32 bytes)")
    public_key = Ed25519PublicKey.from_public_bytes(raw[1:])
    if hex_id.lower() != key_id(name, public_key).hex():
        raise InvalidEvent("verifier key: the key ID does not match the name and key")
    return name, public_key


def sign_checkpoint(checkpoint: Checkpoint, name: str, private_key: Ed25519PrivateKey) -> str:
    """The checkpoint as a note signed by ``name``'s key (which SHOULD be the log's origin)."""
    return sign_note(checkpoint.body(), name, private_key)


def open_checkpoint(signed: str, name: str, public_key: Ed25519PublicKey) -> Checkpoint:
    """The checkpoint a note signed by ``name``'s key states.

    The caller still checks that the origin is the log it expects.

    Raises:
        InvalidEvent: The note does not verify (see ``open_note``) or its text is not a checkpoint.
    """
    return parse_checkpoint_body(open_note(signed, name, public_key))


def _split_note(signed: str) -> tuple[str, list[tuple[str, bytes]]]:
    """The text and the (key name, key ID || signature) of each line; no signature checked."""
    if not _is_note_text(signed):
        raise InvalidEvent("signed note: holds a control character other than newline")
    split = signed.rfind("\n\n")  # the text ends at the last blank line
    block = signed[split + 2 :]
    if split < 0 or not block.endswith("\n"):
        raise InvalidEvent("signed note: no signature block after a blank line")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise InvalidEvent(f"signed note: more than {MAX_SIGNATURES} signatures")
    return signed[: split + 1], [_signature_line(line) for line in lines]


def _signature_line(line: str) -> tuple[str, bytes]:
    name, space, sig64 = line.removeprefix(_DASH).partition(" ")
    if not line.startswith(_DASH) or not space:
        raise InvalidEvent("signed note: a signature line is not '— <name> <base64>'")
    _check_name(name)
    signature = _b64(sig64, "signed note signature")
    if len(signature) < 5:
        raise InvalidEvent("signed note: a signature is shorter than a key ID and one byte")
    return name, signature


def _is_note_text(text: str) -> bool:
    # Notes are UTF-8 without ASCII control characters other than newline; lone surrogates
    # cannot be encoded, so they fail here too.
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return not any(ord(c) < 0x20 and c != "\n" for c in text)


def _check_name(name: str) -> None:
    if not name or "+" in name or any(c.isspace() for c in name) or not _is_note_text(name):
        raise InvalidEvent(f"key name: must be non-empty, without spaces or '+': {name[:60]!r}")


def _b64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidEvent(f"{what}: not standard base64") from None
