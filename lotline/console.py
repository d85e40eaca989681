"""Small helpers for what the CLI prints: tables and a progress line on stderr."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import Any, TextIO


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], out: TextIO = sys.stdout) -> None:
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip(), file=out)
    print("  ".join("-" * w for w in widths), file=out)
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip(), file=out)


def _cell(value: Any) -> str:
    if isinstance(value, list | tuple):
        value = ",".join(map(str, value))
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


class Progress:
    """Rewrites one stderr line at most every ``interval`` seconds (only on a terminal by default)."""

    def __init__(self, enabled: bool | None = None, interval: float = 0.5, out: TextIO = sys.stderr) -> None:
        self.enabled = out.isatty() if enabled is None else enabled
        self._out = out
        self._interval = interval
        self._last = 0.0
        self._start = time.monotonic()
        self._shown = False

    def update(self, text: str, force: bool = False) -> None:
        now = time.monotonic()
        if not self.enabled or (not force and now - self._last < self._interval):
            return
        self._last = now
        self._out.write(f"\r{text} ({now - self._start:.1f} s)\033[K")
        self._out.flush()
        self._shown = True

    def done(self) -> None:
        if self._shown:
            self._out.write("\n")
            self._out.flush()
