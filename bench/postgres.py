"""A throwaway PostgreSQL server for benchmarks: Debian's package, our own data directory and port.

Installs ``postgresql`` with apt when no server binary is found (sudo when not root), runs
``initdb`` and ``postgres`` as the ``postgres`` user when started as root (PostgreSQL refuses
root), and stops the server and removes its data on exit.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from deploy.processes import free_port


def _bin_dir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))
    if not found:
        sudo = [] if os.geteuid() == 0 else ["sudo"]
        subprocess.run([*sudo, "apt-get", "update", "-qq"], check=True)
        subprocess.run([*sudo, "apt-get", "install", "-y", "-qq", "postgresql"], check=True,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))
    return Path(found[-1]).parent


def _as_postgres(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


@contextmanager
def server(shared_buffers: str = "1GB") -> Iterator[str]:
    """Start a server; yields a libpq connection string (user postgres, trust auth, loopback)."""
    bin_dir = _bin_dir()
    root = Path(tempfile.mkdtemp(prefix="lotline-pg-"))
    data = root / "data"
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    subprocess.run(_as_postgres([str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                                 "-E", "UTF8", "--no-sync"]), check=True, capture_output=True)
    port = free_port()
    log = open(root / "postgres.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        _as_postgres([str(bin_dir / "postgres"), "-D", str(data), "-p", str(port), "-k", str(root),
                      "-c", "listen_addresses=127.0.0.1", "-c", f"shared_buffers={shared_buffers}",
                      "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                      "-c", "max_wal_size=4GB", "-c", "work_mem=64MB", "-c", "maintenance_work_mem=512MB"]),
        stdout=log, stderr=subprocess.STDOUT,
    )
    dsn = f"host=127.0.0.1 port={port} user=postgres dbname=postgres"
    try:
        _wait(bin_dir, port, proc)
        yield dsn
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        shutil.rmtree(root, ignore_errors=True)


def _wait(bin_dir: Path, port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("postgres exited during start-up")
        ready = subprocess.run([str(bin_dir / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)],
                               capture_output=True)
        if ready.returncode == 0:
            return
        time.sleep(0.2)
    raise TimeoutError("postgres did not start in 30 s")
