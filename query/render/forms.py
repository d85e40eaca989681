"""What the form commands say when they are done: the files written, the rows per sheet, what is missing."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from traceability.fsma_template import Form
from traceability.tracking import TrackingRecords

#: Missing elements shown in the summary; the About sheet has them all.
_SHOWN = 8


def fsma_written_text(written: Sequence[Path], form: Form, records: TrackingRecords, out: TextIO) -> None:
    """One line per file, the rows per sheet, and the missing elements by kind (a few of them by lot)."""
    for path in written:
        out.write(f"wrote {path}\n")
    rows = ", ".join(f"{sheet} {len(found):,}" for sheet, found in form.rows.items())
    out.write(f"{records.request.describe()}: {len(records.lots):,} lots; rows: {rows}\n")
    if not form.missing:
        out.write("complete: every key data element is filled\n")
        return
    out.write(f"incomplete: {len(form.missing):,} elements the records do not hold (each listed in the About "
              "sheet), most often:\n")
    for (element, why), n in Counter((m.element, m.why) for m in form.missing).most_common(_SHOWN):
        out.write(f"  {n:>5} × {element}: {why}\n")
