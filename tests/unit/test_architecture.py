"""The pure core stays pure, and the code passes its own linters."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN_IN_CORE = {"faust", "mode", "kafka", "aiokafka", "clickhouse_driver", "fastavro", "avro",
                     "fastapi", "structlog", "streams", "sinks", "deploy", "lotline", "query", "schemas"}


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_the_core_imports_no_framework_driver_codec_or_outer_package():
    for path in sorted((ROOT / "traceability").glob("*.py")):
        assert not imported_roots(path) & FORBIDDEN_IN_CORE, path.name


@pytest.mark.skipif(shutil.which("ruff", path=str(Path(sys.executable).parent)) is None, reason="ruff not installed")
def test_ruff_finds_nothing():
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent))
    dirs = ["traceability", "schemas", "streams", "sinks", "deploy", "lotline", "query", "tests"]
    done = subprocess.run([ruff, "check", *dirs], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout


def test_the_core_is_mypy_strict_clean():
    mypy = pytest.importorskip("mypy.api")
    out, err, status = mypy.run(["--strict", "--no-incremental", str(ROOT / "traceability")])
    assert status == 0, out + err
