"""What ``lotline log`` prints: signed checkpoints, the witness's check, inclusion proofs."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any, TextIO

from query.log_check import Extension
from query.transparency import InclusionProof
from traceability.transparency import Checkpoint


def checkpoint_text(note: str, out: TextIO) -> None:
    """``lotline log checkpoint``: the signed note exactly as it is signed."""
    out.write(note)


def saved_text(path: Path, checkpoint: Checkpoint, out: TextIO) -> None:
    """``lotline log checkpoint --out FILE``: what was saved where."""
    print(f"saved the checkpoint of {checkpoint.origin} at size {checkpoint.size} (root {_b64(checkpoint.root)}) "
          f"to {path}", file=out)


def extension_text(extension: Extension, out: TextIO, err: TextIO) -> None:
    """``lotline log check``: one line on ``out`` when the log extends the checkpoint, else the reason on ``err``."""
    if extension.holds:
        print(f"the log extends the saved checkpoint (size {extension.old_size} -> {extension.new_size})", file=out)
    else:
        print(f"lotline: the log does not extend the saved checkpoint: {extension.reason}", file=err)


def unsigned_text(reason: str, err: TextIO) -> None:
    """``lotline log check``: the saved checkpoint itself does not verify."""
    print(f"lotline: the saved checkpoint does not verify: {reason}", file=err)


def proof_text(event_id: str, entry: dict[str, Any] | None, proof: InclusionProof, verified: bool, note: str,
               out: TextIO, err: TextIO) -> None:
    """``lotline log proof``: the entry, where it is, its audit path, the verdict and the checkpoint."""
    if entry is not None:
        what = " ".join(f"{k}={entry[k]}" for k in ("kind", "lab_id", "report_id", "report_version", "batch_id",
                                                      "verdict", "outcome") if k in entry)
        print(f"entry        {what}", file=out)
    print(f"event        {event_id}", file=out)
    print(f"leaf         {proof.index} of {proof.size}  (leaf hash {proof.leaf_hash.hex()})", file=out)
    print(f"root         {_b64(proof.root)}", file=out)
    print(f"audit path   {len(proof.proof)} hashes, leaf side first", file=out)
    for digest in proof.proof:
        print(f"  {_b64(digest)}", file=out)
    if verified:
        print(f"verified     the entry is leaf {proof.index} of the tree this checkpoint signs:\n", file=out)
        out.write(note)
    else:
        print(f"lotline: the inclusion proof of event {event_id} does not verify: the stored entry is not "
              f"the leaf the log holds at {proof.index}", file=err)


def key_text(vkey: str, out: TextIO) -> None:
    """``lotline log key``: the verifier key, one line."""
    print(vkey, file=out)


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode("ascii")
