"""A benchmark's own local stack, in a temporary state directory so it never touches yours."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from deploy.local_stack import Endpoints, resolve_endpoints
from lotline.settings import Settings


@dataclass(frozen=True)
class OwnStack:
    state: Path
    env: dict[str, str]  # the environment that points `lotline` commands at this stack
    endpoints: Endpoints


def lotline(env: dict[str, str], *args: str) -> None:
    """Run a `lotline` command against the stack ``env`` points at; fail if it fails."""
    subprocess.run([sys.executable, "-m", "lotline", *args], env=env, check=True, stdout=subprocess.DEVNULL)


@contextmanager
def own_stack(workers: int) -> Iterator[OwnStack]:
    """`lotline stack up` with ``workers`` workers in a temporary directory; `stack down` on exit."""
    with tempfile.TemporaryDirectory(prefix="lotline-bench-") as state:
        env = {**os.environ, "LOTLINE_STATE_DIR": state, "LOTLINE_WORKERS": str(workers)}
        lotline(env, "stack", "up")
        try:
            yield OwnStack(Path(state), env, resolve_endpoints(Settings(state_dir=Path(state))))
        finally:
            lotline(env, "stack", "down")
