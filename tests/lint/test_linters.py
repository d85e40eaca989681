"""The code passes its own linters: ruff everywhere, mypy --strict on the core."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.lint
ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ["traceability", "schemas", "streams", "sinks", "deploy", "lotline", "query"]


@pytest.mark.skipif(shutil.which("ruff", path=str(Path(sys.executable).parent)) is None, reason="ruff not installed")
def test_ruff_finds_nothing():
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent))
    done = subprocess.run([ruff, "check", *PACKAGES, "tests", "bench"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout


def test_the_core_is_mypy_strict_clean():
    mypy = pytest.importorskip("mypy.api")
    out, err, status = mypy.run(["--strict", "--no-incremental", str(ROOT / "traceability")])
    assert status == 0, out + err
