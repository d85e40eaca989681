"""A lab's key registered or revoked: the lab's next registry snapshot, everything else kept."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from traceability.errors import BadParameter
from traceability.events import Lab
from traceability.registry import SigningKey


def with_key(lab: Lab, key: SigningKey, *, at: datetime) -> Lab:
    """The lab's record with ``key`` added, registered at ``at``.

    Raises:
        BadParameter: the lab already has a key with that id.
    """
    if any(k.kid == key.kid for k in lab.keys):
        raise BadParameter("kid", f"lab {lab.lab_id} already has a key {key.kid}")
    return replace(lab, event_id=f"{lab.lab_id}-key-{key.kid}", keys=(*lab.keys, key), registered_at=at)


def with_revocation(lab: Lab, kid: str, *, revoked_at: datetime, reason: str, at: datetime) -> Lab:
    """The lab's record with key ``kid`` revoked from ``revoked_at`` on (reports it signed since then
    stop counting; the ones it signed before stay authentic).

    Raises:
        BadParameter: the lab has no such key, or it is already revoked.
    """
    found = [k for k in lab.keys if k.kid == kid]
    if not found:
        raise BadParameter("kid", f"lab {lab.lab_id} has no key {kid}")
    if found[0].revoked_at is not None:
        raise BadParameter("kid", f"key {kid} was already revoked at {found[0].revoked_at.isoformat()}")
    keys = tuple(replace(k, revoked_at=revoked_at, revocation_reason=reason) if k.kid == kid else k for k in lab.keys)
    return replace(lab, event_id=f"{lab.lab_id}-revoke-{kid}", keys=keys, registered_at=at)
