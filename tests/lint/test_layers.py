"""Imports run one way (pyproject's import-linter contracts), and the contracts can fail."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.lint.test_linters import PACKAGES, ROOT

pytestmark = pytest.mark.lint
LINT_IMPORTS = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
needs_import_linter = pytest.mark.skipif(LINT_IMPORTS is None, reason="import-linter not installed")


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    assert LINT_IMPORTS is not None
    return subprocess.run([LINT_IMPORTS, "--no-cache"], cwd=root, capture_output=True, text=True)


def copy_with(tmp_path: Path, module: str, line: str) -> Path:
    """The packages and pyproject.toml copied to ``tmp_path``, with ``line`` appended to ``module``."""
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    with (tmp_path / module).open("a") as out:
        out.write(f"\n{line}\n")
    return tmp_path


@needs_import_linter
def test_every_layer_contract_is_kept():
    done = lint_imports(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


@needs_import_linter
@pytest.mark.parametrize(("module", "line", "broken"), [
    ("sinks/rows.py", "import lotline.cli", "sinks is not allowed to import lotline"),
    ("query/scope.py", "from deploy import local_stack", "query is not allowed to import deploy"),
    ("streams/topics.py", "def later():\n    from query import api", "streams is not allowed to import query"),
    ("traceability/lineage.py", "import socket", "traceability is not allowed to import socket"),
    ("streams/ingest.py", "from traceability.testing import oracle", "streams is not allowed to import traceability"),
])
def test_an_upward_or_forbidden_import_breaks_a_contract(tmp_path, module, line, broken):
    done = lint_imports(copy_with(tmp_path, module, line))
    assert done.returncode != 0 and broken in done.stdout, done.stdout + done.stderr
