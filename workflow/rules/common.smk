# Configuration, the model list and the small helpers the rules call. Every check on user input
# runs here, at load time, so bad input stops the run before any job starts, in one line.
import json
import re
import subprocess
import sys
from pathlib import Path

from snakemake.settings.types import DeploymentMethod
from snakemake.utils import validate

sys.path.insert(0, str(Path(workflow.basedir) / "workflow" / "scripts"))
from posebench import catalog  # noqa: E402
from posebench.environment import cuda_visible  # noqa: E402
from posebench.plots import FORMATS, plot_names  # noqa: E402

USE_CONDA = DeploymentMethod.CONDA in workflow.deployment_settings.deployment_method
CONDA_ENVS = {
    "mmpose0": "../../envs/mmpose0.yaml",
    "mmpose1": "../../envs/mmpose1.yaml",
}
DRIVER_CONDA_ENV = "../../envs/driver.yaml"


def backend_config_root(backend):
    """The backend's packaged configs/, found without importing mmpose; None under conda."""
    if USE_CONDA:
        return None
    python = config["backends"][backend]["python"]
    if not Path(python).exists():
        raise catalog.CatalogError(
            "config: field backends.%s.python: %s does not exist (run `make setup`)"
            % (backend, python)
        )
    locate = (
        "import importlib.util, os; spec = importlib.util.find_spec('mmpose'); "
        "print(os.path.join(spec.submodule_search_locations[0], '.mim', 'configs') if spec else '')"
    )
    found = subprocess.run(
        [python, "-c", locate], capture_output=True, text=True
    ).stdout.strip()
    if not found:
        raise catalog.CatalogError(
            "config: field backends.%s.python: %s has no mmpose installed"
            % (backend, python)
        )
    return Path(found)


def load_selected_models():
    catalog.retype_config(config)
    catalog.check_config(config, "config")
    validate(config, "../schemas/config.schema.yaml")
    path = Path(config["models"])
    models = catalog.load_models(path)
    models = catalog.apply_backend_override(models, config["backend"], path)
    models = catalog.select_models(models, config["select"], path)
    backends = sorted({entry["backend"] for entry in models})
    roots = {backend: backend_config_root(backend) for backend in backends}
    catalog.check_config_files(models, roots, Path.cwd(), path)
    return {entry["id"]: entry for entry in models}


try:
    MODELS = load_selected_models()
    # Only the machine that runs the jobs can say whether it has a GPU: a job re-parsing this
    # file on its node, or a cluster run (check_devices: false), takes the devices as listed.
    CHECK_DEVICES = workflow.is_main_process and config["check_devices"]
    DEVICES = catalog.timing_devices(
        config["devices"], cuda_visible() if CHECK_DEVICES else None
    )
    COMPARE_WITH = catalog.other_table(config["compare_with"])
except catalog.CatalogError as error:
    sys.exit("posebench: %s" % error)

PLOT_NAMES = plot_names(DEVICES, config["batch_sizes"])
# the seed always; another run's table when config names one
COMPARISONS = ["seed"] + (["run"] if COMPARE_WITH else [])


# eager first: the seed's runtime, which the table reads and the others are compared with
RUNTIMES = ["eager"] + [name for name in config["runtimes"] if name != "eager"]


wildcard_constraints:
    model="|".join(re.escape(model_id) for model_id in MODELS),
    device="|".join(DEVICES),
    runtime="|".join(RUNTIMES),
    against="|".join(COMPARISONS),


def entry_json(wildcards):
    """The model's own entry: each job depends on it, not on the whole model list."""
    return json.dumps(MODELS[wildcards.model], sort_keys=True)


def backend_python(wildcards):
    """The interpreter of the model's backend (under conda: the rule's env's own python)."""
    if USE_CONDA:
        return "python"
    return config["backends"][MODELS[wildcards.model]["backend"]]["python"]


def backend_conda_env(wildcards):
    return CONDA_ENVS[MODELS[wildcards.model]["backend"]]


def driver_python():
    return "python" if USE_CONDA else sys.executable


def timing_policy():
    """The iteration policy as JSON: a change to it re-runs the timing jobs, nothing else."""
    policy = {key: value for key, value in config["timing"].items() if key != "threads"}
    return json.dumps(policy, sort_keys=True)


def batch_sizes_arg():
    return " ".join(str(size) for size in config["batch_sizes"])


def timing_threads():
    threads = config["timing"]["threads"]
    return "--threads %d" % threads if threads else ""


# The code each step runs (under workflow/scripts): a change to any of it re-runs that step's
# jobs, and only those.
STEP_CODE = {
    "resolve": ["resolve_model.py"]
    + ["posebench/%s.py" % name for name in ("resolve", "catalog", "metafile", "seed")],
    "complexity": ["count_complexity.py"]
    + ["posebench/%s.py" % name for name in ("complexity", "failures")],
    "timing": ["time_model.py"]
    + [
        "posebench/%s.py" % name
        for name in ("timing", "runtimes", "environment", "failures")
    ],
    "export": ["export_onnx.py"]
    + ["posebench/%s.py" % name for name in ("runtimes", "failures")],
    "table": ["make_table.py"]
    + ["posebench/%s.py" % name for name in ("table", "seed")],
    "runtimes": ["make_runtimes.py"]
    + ["posebench/%s.py" % name for name in ("runtime_table", "table")],
    "plots": ["make_plots.py"]
    + ["posebench/%s.py" % name for name in ("plots", "compare", "table")],
    "compare": ["compare_runs.py"]
    + ["posebench/%s.py" % name for name in ("compare", "table")],
}
AGGREGATE_STEPS = ("table", "runtimes", "plots", "compare")
SHARED_CODE = ["posebench/__init__.py", "posebench/records.py"]
BACKEND_CODE = ["posebench/backends/__init__.py", "posebench/backends/base.py"]


def step_code(step):
    """The step's scripts; for a model's step, also its backend's adapter."""
    files = [f"workflow/scripts/{name}" for name in STEP_CODE[step] + SHARED_CODE]
    if step in AGGREGATE_STEPS:
        return files

    def with_backend(wildcards):
        adapter = f"posebench/backends/{MODELS[wildcards.model]['backend']}.py"
        return files + [f"workflow/scripts/{name}" for name in BACKEND_CODE + [adapter]]

    return with_backend


def per_model(pattern):
    return [pattern.format(model=model_id) for model_id in MODELS]


def per_model_and_device(pattern, runtimes=("eager",)):
    return [
        pattern.format(model=model_id, device=device, runtime=runtime)
        for model_id in MODELS
        for device in DEVICES
        for runtime in runtimes
    ]


def onnx_export(wildcards):
    """The exported network, for the onnxruntime timing jobs only."""
    return (
        f"results/onnx/{wildcards.model}" if wildcards.runtime == "onnxruntime" else []
    )


def export_dir_arg(wildcards, input):
    return f"--export-dir {input.export}" if input.export else ""


def devices_arg():
    return " ".join(DEVICES)


def plot_files(extension):
    return [f"results/plots/{name}.{extension}" for name in PLOT_NAMES]


def compare_source(wildcards):
    """The table ours is compared with: the seed's, or the run config's compare_with names."""
    return "resources/seed_table.csv" if wildcards.against == "seed" else COMPARE_WITH


def compare_name(wildcards):
    if wildcards.against == "seed":
        return "the seed (MMPose's published table)"
    return config["compare_with"]


def get_final_output():
    outputs = ["results/table.md", "results/table.csv", "results/environment.json"]
    outputs += [file for extension in FORMATS for file in plot_files(extension)]
    outputs += [f"results/compare_{against}.md" for against in COMPARISONS]
    if len(RUNTIMES) > 1:
        outputs.append("results/runtimes.md")
    return outputs
