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
    assert "posebench/measure/timing.py" in timing and "posebench/measure/probe.py" in timing
    assert "posebench/runtimes/runners.py" not in timing and "posebench/runtimes/export.py" not in timing
    assert "posebench/runtimes/runners.py" not in import_closure(SCRIPTS, "export_onnx.py")
    # nor the scenes' code: adding scenes to a run leaves its model rounds as they are
    assert not {"posebench/scenes/frames.py", "posebench/scenes/plan.py", "posebench/backends/mmpose1_scenes.py"} & set(timing)
    # the plots read table.csv without the seed comparison's code
    assert "posebench/report/compare.py" not in import_closure(SCRIPTS, "make_plots.py")
    # the measuring steps never read the labels' sources (metafiles, the seed table)
    for script in ("resolve_model.py", "count_complexity.py", "time_model.py", "export_onnx.py"):
        closure = import_closure(SCRIPTS, script)
        assert "posebench/catalog/metafile.py" not in closure and "posebench/catalog/seed.py" not in closure, script


# the package's stages in the order data flows through them (posebench/__init__.py); the modules
# beside them are shared by all and import no stage
STAGES = ["catalog", "runtimes", "measure", "scenes", "report"]
PACKAGE = SCRIPTS / "posebench"


def stage_of(module):
    """A posebench module's stage (its index in STAGES), or None for a shared one."""
    parts = module.split(".")
    return STAGES.index(parts[1]) if len(parts) > 1 and parts[1] in STAGES else None


def test_no_module_imports_one_of_a_later_stage():
    from posebench.codedeps import imported_names, module_name

    backwards = []
    for path in sorted(PACKAGE.rglob("*.py")):
        own = stage_of(module_name(SCRIPTS, path))
        for name in imported_names(SCRIPTS, path):
            if not name.startswith("posebench."):
                continue
            target = stage_of(name)
            if target is not None and (own is None or target > own):
                backwards.append("%s imports %s" % (path.relative_to(SCRIPTS), name))
    assert not backwards, backwards
    assert {path.name for path in PACKAGE.iterdir() if path.is_dir() and path.name != "__pycache__"} == set(
        STAGES + ["backends"])


def test_diagnostics_are_no_code_of_a_step():
    """The machine check's and bench/'s modules live outside the pipeline's package, and the
    CPUs' placement is read by a round only where its policy asks (loaded by name then)."""
    from posebench.codedeps import import_closure

    scripts = sorted(path.name for path in SCRIPTS.glob("*.py"))
    assert "check_machine.py" not in scripts
    for script in scripts:
        closure = import_closure(SCRIPTS, script)
        assert not [name for name in closure if name.startswith("diagnostics/")], script
        if script in ("time_model.py", "time_scene.py", "resolve_model.py", "label_model.py", "count_complexity.py"):
            assert "posebench/measure/placement.py" not in closure, script
    assert not (SCRIPTS / "diagnostics").exists()


def test_make_help_lists_every_target():
    targets = re.findall(r"^([a-z][a-z-]*):", (REPO / "Makefile").read_text(), re.MULTILINE)
    listed = subprocess.run(["make", "--no-print-directory", "help"], cwd=REPO, capture_output=True, text=True,
                            check=True).stdout
    described = dict(line.split(None, 1) for line in listed.splitlines())
    assert sorted(described) == sorted(targets) and len(targets) > 10
    assert all(len(text) > 10 for text in described.values())


def test_every_config_key_is_documented():
    import yaml

    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    documented = (REPO / "config" / "README.md").read_text()
    keys = [key for key, value in config.items() if not isinstance(value, dict)]
    keys += ["%s.%s" % (key, inner) for key in ("timing", "compare", "scenes") for inner in config[key]]
    keys += ["backends.%s.python" % name for name in config["backends"]]
    assert [key for key in keys if "`%s`" % key not in documented] == []


def test_the_readme_is_a_front_page():
    """At most 300 lines, no dated figure (history goes to bench/HISTORY.md), and every doc it
    maps exists."""
    readme = (REPO / "README.md").read_text()
    assert len(readme.splitlines()) <= 300
    assert not re.findall(r"\b20\d\d-\d\d-\d\d\b|\b\d\d:\d\d UTC\b", readme)
    for link in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", readme):
        if "://" not in link:
            assert (REPO / link).exists(), link
