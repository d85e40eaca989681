"""QR codes of a report's verification page (segno: SVG or PNG, chosen by the file's suffix)."""

from __future__ import annotations

from pathlib import Path

import segno

from query.web.report_page import report_path
from traceability.errors import BadParameter


def report_url(public_url: str, lab_id: str, report_id: str) -> str:
    """The verification page's address under the deployment's public URL."""
    return public_url.rstrip("/") + report_path(lab_id, report_id)


def write_qr(url: str, out: Path) -> None:
    """Write the QR code of ``url`` to ``out`` (``.svg`` or ``.png``); error correction level M.

    Raises:
        BadParameter: the file's suffix is neither.
    """
    suffix = out.suffix.lower()
    if suffix not in (".svg", ".png"):
        raise BadParameter("--out", f"{out.name}: write a .svg or a .png")
    segno.make_qr(url, error="m").save(str(out), scale=8 if suffix == ".png" else 4, border=4,
                                         **({"title": url} if suffix == ".svg" else {}))
