"""Processes the local stack starts: spawn detached, check they are ours, stop them by pid."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from traceability.errors import ServerDidNotStart


@dataclass(frozen=True)
class ProcessRecord:
    """A process the stack started; ``marker`` must appear in its command line to be ours."""

    name: str
    pid: int
    marker: str
    log: str
    stop_signal: int = signal.SIGTERM

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ProcessRecord:
        return cls(**data)


def spawn(name: str, argv: Sequence[str], *, log: Path, marker: str, stop_signal: int = signal.SIGTERM,
          env: Mapping[str, str] | None = None, cwd: Path | None = None) -> ProcessRecord:
    """Start ``argv`` in its own session (it outlives the command that started it)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        proc = subprocess.Popen(
            list(argv), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, env=dict(env) if env is not None else None, cwd=cwd,
        )
    return ProcessRecord(name, proc.pid, marker, str(log), int(stop_signal))


def is_ours(record: ProcessRecord) -> bool:
    """Alive, and still the process we started (pids get reused)."""
    try:
        cmdline = Path(f"/proc/{record.pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        stat = Path(f"/proc/{record.pid}/stat").read_text()
    except OSError:
        return False
    return not _zombie(stat) and record.marker in cmdline


def exited(pid: int) -> bool:
    """The process is gone or a zombie (its command line may not be readable yet right after exec)."""
    try:
        return _zombie(Path(f"/proc/{pid}/stat").read_text())
    except OSError:
        return True


def _zombie(stat: str) -> bool:
    return stat.rsplit(")", 1)[-1].split()[0] == "Z"


def stop(record: ProcessRecord, grace_seconds: float = 15.0) -> bool:
    """Stop one process: its own stop signal, then SIGKILL after ``grace_seconds``.

    Returns:
        Whether a process of ours was running.
    """
    if not is_ours(record):
        return False
    _signal(record.pid, record.stop_signal)
    deadline = time.monotonic() + grace_seconds
    while time.monotonic() < deadline:
        if not is_ours(record):
            return True
        time.sleep(0.1)
    _signal(record.pid, signal.SIGKILL)
    while is_ours(record):
        time.sleep(0.05)
    return True


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass
    try:  # reap it if it is our child (tests start stacks in-process)
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int) -> bool:
    """Whether nothing listens on ``port`` on loopback and it can be bound."""
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def wait_for_port(port: int, timeout: float, record: ProcessRecord | None = None) -> None:
    """Wait until something accepts connections on 127.0.0.1:port.

    Raises:
        ServerDidNotStart: nothing listened in time, or the process died first.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if record is not None and exited(record.pid):
            raise ServerDidNotStart(f"{record.name} exited during start-up; see {record.log}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise ServerDidNotStart(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f} s")
