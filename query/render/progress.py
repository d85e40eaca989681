"""A progress line on stderr for long work (publishing, waiting for the workers)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


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
