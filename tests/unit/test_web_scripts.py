"""The web pages' pure modules (sorting, shading, lineage levels) pass their Node unit tests.

The tests live in ``web/test`` and run on Node's built-in test runner (``node --test``), so they
need no npm package beyond the ones the build already installs (esbuild bundles one module).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

WEB = Path(__file__).resolve().parents[2] / "web"


def test_the_web_modules_pass_their_node_unit_tests() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not on PATH: the web modules' unit tests need Node 20 or later")
    done = subprocess.run(
        [node, "--test", "test/"], cwd=WEB, capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, f"node --test exited {done.returncode}\n{done.stdout}\n{done.stderr}"
