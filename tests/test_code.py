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


def write_tree(root, files):
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_a_steps_code_is_the_import_closure_of_its_script(tmp_path):
    from posebench.codedeps import import_closure

    write_tree(tmp_path, {
        "step.py": "import json\nfrom pkg.a import run\n",
        "pkg/__init__.py": "",
        "pkg/a.py": "from . import b\nfrom .sub.c import x\n\ndef run():\n    from .lazy import y\n",
        "pkg/b.py": "import os\n",
        "pkg/sub/__init__.py": "",
        "pkg/sub/c.py": "from ..b import z\n",
        "pkg/lazy.py": "",
        "pkg/unused.py": "",
        "other.py": "from pkg import unused\n",
    })
    assert import_closure(tmp_path, "step.py") == [
        "pkg/__init__.py", "pkg/a.py", "pkg/b.py", "pkg/lazy.py", "pkg/sub/__init__.py", "pkg/sub/c.py", "step.py",
    ]
    assert import_closure(tmp_path, "other.py") == ["other.py", "pkg/__init__.py", "pkg/unused.py"]


def test_the_eager_timing_step_does_not_run_the_runtimes_tolerances():
    from posebench.codedeps import import_closure

    timing = import_closure(SCRIPTS, "time_model.py")
    assert "posebench/timing.py" in timing and "posebench/probe.py" in timing
    assert "posebench/runtimes.py" not in timing and "posebench/onnx_export.py" not in timing
    assert "posebench/runtimes.py" not in import_closure(SCRIPTS, "export_onnx.py")
    # nor the scenes' code: adding scenes to a run leaves its model rounds as they are
    assert not {"posebench/scenes.py", "posebench/scene_plan.py", "posebench/backends/mmpose1_scenes.py"} & set(timing)
    # the plots read table.csv without the seed comparison's code
    assert "posebench/compare.py" not in import_closure(SCRIPTS, "make_plots.py")
    # the measuring steps never read the labels' sources (metafiles, the seed table)
    for script in ("resolve_model.py", "count_complexity.py", "time_model.py", "export_onnx.py"):
        closure = import_closure(SCRIPTS, script)
        assert "posebench/metafile.py" not in closure and "posebench/seed.py" not in closure, script
