"""The shape of the code: what the guide promises readers and the seed's Python 3.8 env."""
import ast
import re
import subprocess

import pytest
from conftest import REPO, SCRIPTS

SCRIPT_FILES = sorted(SCRIPTS.rglob("*.py"))
DRIVER = REPO / ".venvs" / "driver" / "bin"


@pytest.mark.parametrize("path", SCRIPT_FILES, ids=lambda p: str(p.relative_to(SCRIPTS)))
def test_scripts_parse_as_python_38(path):
    ast.parse(path.read_text(), filename=str(path), feature_version=(3, 8))


def test_only_the_adapters_import_mmpose():
    importers = [
        str(path.relative_to(SCRIPTS))
        for path in SCRIPT_FILES
        if re.search(r"^\s*(import|from) mmpose\b", path.read_text(), re.MULTILINE)
    ]
    assert importers and all(name.startswith("posebench/backends/") for name in importers), importers


def test_snakemake_lint_is_clean():
    run = subprocess.run([str(DRIVER / "snakemake"), "--lint"], cwd=REPO, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Congratulations" in run.stdout + run.stderr


def test_snakefmt_formatting():
    run = subprocess.run(
        [str(DRIVER / "snakefmt"), "--check", "Snakefile", "workflow/rules"], cwd=REPO, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
