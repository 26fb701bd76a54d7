"""The conda env files (for users with conda) and the pip requirement files (the venvs built
here) pin the same stack, except where a difference is named here with its reason."""
import re

import pytest
import yaml
from conftest import REPO

ENVS = REPO / "envs"
# package -> why the conda env and the venv differ on purpose
INTENDED_DIFFERENCES = {
    "mmpose0": {
        "mmpose": "conda has the seed's 0.20.0; the venv 0.29.0, the last 0.x, which installs on Python 3.11",
        "mmcv": "conda has the seed's mmcv-full 1.3.17 (prebuilt with ops); the venv mmcv 1.7.0 without ops",
        "torch": "conda has the seed's PyTorch 1.10 (CUDA 10.2); the venv the 2.14.1 that lies on disk here",
        "torchvision": "paired with torch",
        "numpy": "paired with Python 3.8 and torch 1.10",
        "pyyaml": "any 6.x",
        "onnx": "the last onnx and onnxruntime for Python 3.8",
        "onnxruntime": "the last onnx and onnxruntime for Python 3.8",
        "openvino": "the last openvino and nncf for Python 3.8",
        "nncf": "the last openvino and nncf for Python 3.8",
    },
    "mmpose1": {
        "torch": "conda takes the 2.1 that OpenMMLab's mmcv 2.1.0 wheels are built for; the venv builds mmcv "
                 "against PyPI's torch 2.13.0, the newest it compiles against",
        "torchvision": "paired with torch (mmpretrain, ViTPose's backbone, imports it)",
    },
}


def conda_env(name):
    return yaml.safe_load((ENVS / ("%s.yaml" % name)).read_text())


def conda_pins(name):
    pins = {}
    for dependency in conda_env(name)["dependencies"]:
        items = dependency["pip"] if isinstance(dependency, dict) else [dependency]
        for item in items:
            match = re.fullmatch(r"([A-Za-z0-9_.-]+)(?:==?)([^=\s]+)", item)
            if match:
                pins[normalise(match[1])] = match[2]
    return pins


def pip_pins(name):
    pins = {}
    for line in (ENVS / "requirements" / ("%s.txt" % name)).read_text().splitlines():
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)===?(\S+)", line.strip())  # === pins an exact build
        if match:
            pins[normalise(match[1])] = match[2]
    return pins


def normalise(package):
    package = package.lower().replace("_", "-")
    return {"pytorch": "torch", "mmcv-full": "mmcv"}.get(package, package)


def test_the_mmpose0_conda_env_is_the_seeds_environment():
    env = conda_env("mmpose0")
    pins = conda_pins("mmpose0")
    assert pins["python"] == "3.8"
    assert pins["torch"] == "1.10.0" and pins["cudatoolkit"] == "10.2"
    assert pins["mmcv"] == "1.3.17" and pins["mmpose"] == "0.20.0"
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "--find-links https://download.openmmlab.com/mmcv/dist/cu102/torch1.10.0/index.html" in pip_section
    assert "mmcv-full==1.3.17" in pip_section


@pytest.mark.parametrize("name", ["mmpose0", "mmpose1", "driver"])
def test_conda_env_files_are_complete(name):
    env = conda_env(name)
    assert env["name"] == "posebench-%s" % name
    assert env["channels"] and "python" in conda_pins(name)


@pytest.mark.parametrize("name", ["mmpose0", "mmpose1"])
def test_venv_and_conda_pins_agree_but_for_named_differences(name):
    conda, pip = conda_pins(name), pip_pins(name)
    shared = sorted(set(conda) & set(pip))
    assert {"mmpose", "mmcv", "thop"} <= set(shared)
    intended = INTENDED_DIFFERENCES[name]
    differing = {package for package in shared if conda[package] != pip[package]}
    assert differing == {package for package in intended if package in shared}, (
        "pins out of step: %s" % {p: (conda[p], pip[p]) for p in differing}
    )


def test_every_rule_that_runs_a_script_declares_its_conda_env():
    for rules in (REPO / "workflow" / "rules").glob("*.smk"):
        text = rules.read_text()
        assert text.count("workflow/scripts/") == 0 or text.count("\n    conda:") == len(re.findall(r"^(?:rule|checkpoint) ", text, re.M)), rules
