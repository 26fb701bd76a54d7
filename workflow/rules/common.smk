# Configuration, the model list and the small helpers the rules call. Every check on user input
# runs here, at load time, so bad input stops the run before any job starts, in one line.
import json
import re
import shlex
import subprocess
import sys
import threading
from functools import lru_cache
from pathlib import Path

from snakemake.exceptions import IncompleteCheckpointException
from snakemake.settings.types import DeploymentMethod
from snakemake.utils import validate

SCRIPTS_DIR = "workflow/scripts"
sys.path.insert(0, str(Path(workflow.basedir) / SCRIPTS_DIR))
from posebench.backends.names import CONFIG_TREES  # noqa: E402
from posebench.catalog import models as catalog  # noqa: E402
from posebench.codedeps import import_closure  # noqa: E402
from posebench.catalog.resolve import measured_entry  # noqa: E402
from posebench.records import read_json  # noqa: E402
from posebench.measure.rounds import (
    planned_rounds,
    round_policy,
    timing_folder,
    wants_another_round,
)  # noqa: E402
from posebench.runtimes.names import FROM_ONNX, RTMLIB_BACKEND  # noqa: E402
from posebench.scenes.plan import RTMLIB_STACKS, SCENE_RUNTIME, scene_plan  # noqa: E402
from posebench.measure.environment import cuda_visible  # noqa: E402
from posebench.report.plots import FORMATS, plot_names  # noqa: E402

USE_CONDA = DeploymentMethod.CONDA in workflow.deployment_settings.deployment_method
CONDA_ENVS = {
    "mmpose0": "../../envs/mmpose0.yaml",
    "mmpose1": "../../envs/mmpose1.yaml",
    "ultralytics": "../../envs/ultralytics.yaml",
}
DRIVER_CONDA_ENV = "../../envs/driver.yaml"
# the make target that builds a backend's virtual environment, where it is not `make setup`
SETUP_TARGETS = {"ultralytics": "setup-ultralytics"}


def backend_config_root(backend):
    """The backend's packaged configs, found without importing its package; None under conda."""
    if USE_CONDA:
        return None
    python = config["backends"][backend]["python"]
    if not Path(python).exists():
        raise catalog.CatalogError(
            "config: field backends.%s.python: %s does not exist (run `make %s`)"
            % (backend, python, SETUP_TARGETS.get(backend, "setup"))
        )
    package, folder = CONFIG_TREES[backend]
    locate = (
        "import importlib.util, os; spec = importlib.util.find_spec(%r); "
        "print(os.path.join(spec.submodule_search_locations[0], %r) if spec else '')"
        % (package, folder)
    )
    found = subprocess.run(
        [python, "-c", locate], capture_output=True, text=True
    ).stdout.strip()
    if not found:
        raise catalog.CatalogError(
            "config: field backends.%s.python: %s has no %s installed"
            % (backend, python, package)
        )
    return Path(found)


def load_selected_models():
    catalog.retype_config(config)
    catalog.check_config(config, "config")
    validate(config, "../schemas/config.schema.yaml")
    if config["timing"]["max_rounds"] < config["timing"]["min_rounds"]:
        raise catalog.CatalogError(
            "config: field timing.max_rounds: %d is fewer than timing.min_rounds (%d)"
            % (config["timing"]["max_rounds"], config["timing"]["min_rounds"])
        )
    path = Path(config["models"])
    models = catalog.load_models(path)
    models = catalog.apply_backend_override(models, config["backend"], path)
    list_backends = {entry["id"]: entry["backend"] for entry in models}
    models = catalog.select_models(models, config["select"], path)
    backends = sorted({entry["backend"] for entry in models})
    roots = {backend: backend_config_root(backend) for backend in backends}
    catalog.check_config_files(models, roots, Path.cwd(), path)
    selected = {entry["id"]: entry for entry in models}
    try:
        scenes = scene_plan(config["scenes"], list_backends, list(selected), "config")
    except ValueError as error:
        raise catalog.CatalogError(str(error))
    return selected, scenes


try:
    MODELS, SCENES = load_selected_models()
    # Only the machine that runs the jobs can say whether it has a GPU: a job re-parsing this
    # file on its node, or a cluster run (check_devices: false), takes the devices as listed.
    CHECK_DEVICES = workflow.is_main_process and config["check_devices"]
    DEVICES = catalog.timing_devices(
        config["devices"], cuda_visible() if CHECK_DEVICES else None
    )
    COMPARE_WITH = catalog.other_table(config["compare_with"])
    COMBINE_WITH = catalog.other_table(
        config["combine_with"], "config: field combine_with", missing_ok=True
    )
except catalog.CatalogError as error:
    sys.exit("posebench: %s" % error)

# The table, and all that is made from the whole list; each model's own results stay in results/.
TABLE_DIR = config["table_dir"].rstrip("/")
if config["combine_with"] and not COMBINE_WITH and workflow.is_main_process:
    print(
        "posebench: no table at %s yet: the combined plots are left out (make it first, "
        "e.g. `make table`)" % config["combine_with"],
        file=sys.stderr,
    )
PLOT_NAMES = plot_names(DEVICES, config["batch_sizes"], combined=bool(COMBINE_WITH))
# the seed always; another run's table when config names one
COMPARISONS = ["seed"] + (["run"] if COMPARE_WITH else [])


# eager first: the seed's runtime, which the table reads and the others are compared with
RUNTIMES = ["eager"] + [name for name in config["runtimes"] if name != "eager"]

# Each (model, device, runtime) is measured in rounds, one process each: min_rounds, the rounds
# already on disk, and those a re-measurement (config remeasure) adds to the cells the last run
# marked unsteady; then more, one at a time, while its interval is wider than the target.
ROUNDS = config["timing"]
# The rounds live in results/timing/ whatever the list (a fresh invocation sees only the planned
# ones as finished: planned from results/modern/timing/, the modern list lost its rounds past 4);
# the cells an earlier run marked, in the list's own table folder.
ROUND_PLAN = planned_rounds(
    [(m, d, r) for m in MODELS for d in DEVICES for r in RUNTIMES],
    ROUNDS["min_rounds"],
    Path(TABLE_DIR),
    config["remeasure"],
    folder=lambda _, cell: timing_folder(Path("results"), cell),
)
# Each scene (scenes.people) on each device is measured in rounds as a model is.
SCENE_ROUND_PLAN = planned_rounds(
    [(scene, d, SCENE_RUNTIME) for scene in SCENES for d in DEVICES],
    ROUNDS["min_rounds"],
    Path("results"),
    folder=lambda results, cell: results / "scenes" / cell[0] / cell[1],
)
# Snakemake runs the ready job of highest priority first: every resolve, label, export and
# quantization job before any timing, and every cell's round k before any cell's round k + 1
# (round-major, interleaved).
RESOLVE_PRIORITY = 200000
FIRST_ROUND_PRIORITY = 100000


wildcard_constraints:
    model="|".join(re.escape(model_id) for model_id in MODELS),
    scene="|".join(re.escape(scene) for scene in SCENES) or "no scenes",
    device="|".join(DEVICES),
    runtime="|".join(RUNTIMES),
    detector="|".join(re.escape(name) for name in config["scenes"]["detectors"])
    or "no detectors",
    round=r"\d+",
    against="|".join(COMPARISONS),


def entry_json(wildcards):
    """The model's own entry: its labels job depends on it, not on the whole model list."""
    return json.dumps(MODELS[wildcards.model], sort_keys=True)


def measured_entry_json(wildcards):
    """The fields of the entry that change what is measured: all its measuring jobs hang on."""
    return json.dumps(measured_entry(MODELS[wildcards.model]), sort_keys=True)


def job_backend(wildcards):
    """The backend of the job's model: its own, or its scene's pose model's."""
    model = (
        SCENES[wildcards.scene]["model"]
        if "scene" in wildcards.keys()
        else wildcards.model
    )
    return MODELS[model]["backend"]


def python_of(backend):
    """A backend's interpreter (under conda: the rule's env's own python)."""
    return "python" if USE_CONDA else config["backends"][backend]["python"]


def backend_python(wildcards):
    """The interpreter of the job's model's backend."""
    return python_of(job_backend(wildcards))


def backend_conda_env(wildcards):
    return CONDA_ENVS[job_backend(wildcards)]


def driver_python():
    return "python" if USE_CONDA else sys.executable


def timing_policy():
    return round_policy(config["timing"])


def round_priority(wildcards):
    return FIRST_ROUND_PRIORITY - int(wildcards.round)


def batch_sizes_arg():
    return " ".join(str(size) for size in config["batch_sizes"])


def timing_threads():
    threads = config["timing"]["threads"]
    return "--threads %d" % threads if threads else ""


# The script each step runs. Its code, as the step's input, is derived from the script's imports
# (posebench/codedeps.py), so a change to any module a step runs re-runs that step's jobs, and
# only those; the modules loaded by name at run time are added per job: the model's backend
# adapter, posebench/runtimes/runners.py for the runtimes beyond eager, and the CPUs' placement
# reading (posebench/measure/placement.py) for the rounds where timing.read_placement asks for it.
STEP_SCRIPTS = {
    "resolve": "resolve_model.py",
    "label": "label_model.py",
    "complexity": "count_complexity.py",
    "timing": "time_model.py",
    "export": "export_onnx.py",
    "quantize": "quantize_int8.py",
    "measurements": "make_measurements.py",
    "table": "make_table.py",
    "runtimes": "make_runtimes.py",
    "plots": "make_plots.py",
    "compare": "compare_runs.py",
    "page": "make_page.py",
    "scene": "time_scene.py",
    "scenes": "make_scenes.py",
    "detector": "export_detector.py",
}
MODEL_STEPS = ("resolve", "label", "complexity", "timing", "export", "quantize")


def code_of(script):
    return list(closure_of(script))


@lru_cache(maxsize=None)
def closure_of(script):
    """A script's code, read once per invocation: the input functions ask for it per job."""
    return tuple(
        f"{SCRIPTS_DIR}/{name}"
        for name in import_closure(Path(workflow.basedir) / SCRIPTS_DIR, script)
    )


def placement_modules():
    """The placement reading, where the rounds read it (timing.read_placement)."""
    return (
        ["posebench/measure/placement.py"] if config["timing"]["read_placement"] else []
    )


def code_loading(step, modules):
    """A step's code, with the modules it loads by name at run time (each with its imports)."""
    loaded = [name for module in modules for name in code_of(module)]
    return sorted(set(code_of(STEP_SCRIPTS[step]) + loaded))


def step_code(step):
    """The code a step's jobs run; for a model's step, with its backend's adapter (and for a
    timing job, the placement reading where asked; beyond eager, the runtimes module).
    """
    if step not in MODEL_STEPS:
        return code_of(STEP_SCRIPTS[step])

    def with_plugins(wildcards):
        modules = [f"posebench/backends/{MODELS[wildcards.model]['backend']}.py"]
        if step == "timing":
            modules += placement_modules()
        if getattr(wildcards, "runtime", "eager") != "eager":
            modules.append("posebench/runtimes/runners.py")
        return code_loading(step, modules)

    return with_plugins


def backend_pins(wildcards):
    """The backend's pinned environment, so a changed pin re-runs exactly that backend's jobs
    (under conda, Snakemake's own hash of the env file does this)."""
    if USE_CONDA:
        return []
    return f"envs/requirements/{job_backend(wildcards)}.txt"


def driver_pins():
    return [] if USE_CONDA else "envs/requirements/driver.txt"


def per_model(pattern):
    return [pattern.format(model=model_id) for model_id in MODELS]


def round_file(cell, number):
    model_id, device, runtime = cell
    return f"results/timing/{model_id}/{device}/{runtime}/round{number}.json"


def scene_round_file(cell, number):
    scene, device, _ = cell
    return f"results/scenes/{scene}/{device}/round{number}.json"


def round_done(cell, number):
    """Whether the round's checkpoint job is done (not about to be re-run)."""
    name, device, runtime = cell
    try:
        if runtime == SCENE_RUNTIME:
            checkpoints.scene_timing.get(scene=name, device=device, round=str(number))
        else:
            checkpoints.timing.get(
                model=name, device=device, runtime=runtime, round=str(number)
            )
    except IncompleteCheckpointException:
        return False
    return True


# path -> (mtime, record): the input function runs again after every round
FINISHED_ROUNDS = {}


def finished_round(cell, number):
    """A round's record once it is on disk for good (not about to be re-run), else None."""
    if not round_done(cell, number):
        return None
    path = Path(
        (scene_round_file if cell[2] == SCENE_RUNTIME else round_file)(cell, number)
    )
    mtime = path.stat().st_mtime_ns
    if FINISHED_ROUNDS.get(path, (None,))[0] != mtime:
        FINISHED_ROUNDS[path] = (mtime, read_json(path))
    return FINISHED_ROUNDS[path][1]


def cell_rounds(cell, planned):
    """The planned rounds, then one more at a time while every round so far is done and the
    cell's interval at some batch size is wider than the target, up to max_rounds and while
    its rounds have taken less than max_cell_s. Each round
    is a checkpoint: Snakemake asks again when one finishes, so the extra rounds stay
    round-major (a later round has a lower priority) across the cells that need them."""
    rounds = list(planned)
    while rounds[-1] < ROUNDS["max_rounds"]:
        records = [finished_round(cell, number) for number in rounds]
        if None in records or not wants_another_round(
            records, ROUNDS["target"], ROUNDS["max_rounds"], ROUNDS["max_cell_s"]
        ):
            break
        rounds.append(rounds[-1] + 1)
    return rounds


def timing_rounds(wildcards):
    """Every round of every (model, device, runtime) the run measures, as far as known now."""
    return [
        round_file(cell, number)
        for cell, planned in ROUND_PLAN.items()
        for number in cell_rounds(cell, planned)
    ]


def scene_rounds(wildcards):
    """Every round of every scene the run measures, as far as known now."""
    return [
        scene_round_file(cell, number)
        for cell, planned in SCENE_ROUND_PLAN.items()
        for number in cell_rounds(cell, planned)
    ]


def scene_resolved(wildcards):
    return f"results/resolved/{SCENES[wildcards.scene]['model']}.json"


def scene_code(wildcards):
    """A scene round's code: its script's, with its backend's adapter and scenes adapter, or
    the rtmlib stack's (each loaded by name, so the model rounds do not run it)."""
    backend = job_backend(wildcards)
    stack = (
        "posebench/scenes/rtmlib_stack.py"
        if SCENES[wildcards.scene]["stack"] in RTMLIB_STACKS
        else f"posebench/backends/{backend}_scenes.py"
    )
    return code_loading(
        "scene", [f"posebench/backends/{backend}.py", stack] + placement_modules()
    )


def scene_exports(wildcards):
    """What an rtmlib scene reads: the pose model's ONNX export and the detector's."""
    scene = SCENES[wildcards.scene]
    if scene["stack"] not in RTMLIB_STACKS:
        return []
    return [f"results/onnx/{scene['model']}", f"results/detectors/{scene['detector']}"]


def scene_stack_arg(wildcards, input):
    """--stack, and for rtmlib the exports it reads."""
    stack = SCENES[wildcards.scene]["stack"]
    if stack not in RTMLIB_STACKS:
        return ""
    pose, detector = input.exports
    return f"--stack {stack} --pose-export {pose} --detector-export {detector}"


def detector_code():
    """The detector export's code, with the scenes adapter that builds the detector."""
    return code_loading(
        "detector",
        [
            f"posebench/backends/{RTMLIB_BACKEND}.py",
            f"posebench/backends/{RTMLIB_BACKEND}_scenes.py",
        ],
    )


def detector_config(wildcards):
    return config["scenes"]["detectors"][wildcards.detector]


def scene_detector_arg(wildcards):
    """--detector NAME=CONFIG for a top-down pipeline (quoted: a user's name may hold anything)."""
    detector = SCENES[wildcards.scene]["detector"]
    if detector is None:
        return ""
    pair = "%s=%s" % (detector, config["scenes"]["detectors"][detector])
    return "--detector %s" % shlex.quote(pair)


def scene_people_arg():
    return " ".join(str(people) for people in config["scenes"]["people"])


def scene_frame_size_arg():
    return " ".join(str(side) for side in config["scenes"]["frame_size"])


def scene_labels():
    return sorted(
        {f"results/labels/{scene['model']}.json" for scene in SCENES.values()}
    )


def scene_plot_files():
    return [
        in_table_dir(f"plots/scenes_fps_vs_people_{device}.png") for device in DEVICES
    ]


def onnx_export(wildcards):
    """The network a timing job's runtime reads: the ONNX export, or its INT8 model."""
    if wildcards.runtime in FROM_ONNX:
        return f"results/onnx/{wildcards.model}"
    if wildcards.runtime == "openvino_int8":
        return f"results/openvino_int8/{wildcards.model}"
    return []


def export_dir_arg(wildcards, input):
    return f"--export-dir {input.export}" if input.export else ""


def devices_arg():
    return " ".join(DEVICES)


def in_table_dir(name):
    """A file made from the whole list: in the table's folder."""
    return f"{TABLE_DIR}/{name}"


def table_log(name):
    """The log of a step over the whole list, one folder per table: logs/ for results/,
    logs/modern/ for results/modern/."""
    folder = Path(TABLE_DIR)
    inside = (
        folder.relative_to("results") if folder.parts[:1] == ("results",) else folder
    )
    return str(Path("logs") / inside / f"{name}.log")


def plot_files(extension):
    return [in_table_dir(f"plots/{name}.{extension}") for name in PLOT_NAMES]


def combine_args(wildcards, input):
    if not input.combine_with:
        return ""
    if not input.combine_environment:
        return f"--combine-with {input.combine_with}"
    return f"--combine-with {input.combine_with} --combine-environment {input.combine_environment}"


def plots_dir(wildcards, output):
    return str(Path(output.png[0]).parent)


def records_beside(table, name):
    """A record of another run (beside its table.csv), as an input list: empty when there is
    no such run or it kept no such record."""
    found = catalog.record_beside(table, name) if table else None
    return [found] if found else []


def runtimes_table():
    """runtimes.csv, when the run times runtimes beyond eager."""
    return [in_table_dir("runtimes.csv")] if len(RUNTIMES) > 1 else []


def scenes_record(name):
    """scenes.csv or scenes.md: the run's when it times scenes, else the other list's when the
    run combines with one that timed them."""
    return [in_table_dir(name)] if SCENES else combine_record(name)


def page_args(wildcards, input):
    """The page's optional inputs: the runtimes table, the other list's records, the scenes."""
    args = [f"--runtimes {input.runtimes}"] if input.runtimes else []
    if input.scenes:
        args.append(
            f"--scenes {input.scenes} --scenes-markdown {input.scenes_markdown}"
        )
    if input.combine_with and input.combine_cells:
        args.append(
            f"--combine-with {input.combine_with} --combine-cells {input.combine_cells}"
        )
    return " ".join(args)


def combine_record(name):
    """The other list's table, or a record beside it, when the run combines with one."""
    if COMBINE_WITH and name == "table.csv":
        return [COMBINE_WITH]
    return records_beside(COMBINE_WITH, name)


def compare_source(wildcards):
    """The table ours is compared with: the seed's, or the run config's compare_with names."""
    return "resources/seed_table.csv" if wildcards.against == "seed" else COMPARE_WITH


def reference_record(name):
    """A record of the reference run (beside the compare_with table), when it has one."""
    return records_beside(COMPARE_WITH, name)


def reference_measurements():
    return reference_record("measurements.csv")


def compare_rounds(wildcards):
    """The other run's rounds, when it kept them (the seed has none)."""
    return [] if wildcards.against == "seed" else reference_measurements()


def compare_environment(wildcards):
    """The other run's environments, when it kept them (the seed has none)."""
    return [] if wildcards.against == "seed" else reference_record("environment.json")


def reference_arg(wildcards, input):
    if not input.reference:
        return ""
    return "--reference %s --reference-name %s" % (
        input.reference,
        shlex.quote(config["compare_with"]),
    )


def compare_name(wildcards):
    if wildcards.against == "seed":
        return "the seed (MMPose's published table)"
    return config["compare_with"]


def get_final_output():
    names = [
        "table.md",
        "table.csv",
        "environment.json",
        "measurements.csv",
        "cells.csv",
    ]
    names += [f"compare_{against}.md" for against in COMPARISONS]
    if len(RUNTIMES) > 1:
        names.append("runtimes.md")
    names.append("index.html")
    if SCENES:
        names += ["scenes.md", "scenes.csv", "scene_measurements.csv"]
    outputs = [in_table_dir(name) for name in names] + (
        scene_plot_files() if SCENES else []
    )
    return outputs + [file for extension in FORMATS for file in plot_files(extension)]


def cancel_selection_timers():
    """Snakemake re-runs its job selection on a timer (the profile's max-jobs-per-timespan) and
    does not exit before its last timer has fired: up to 20 s after the last job. Once the run
    is over no selection is left to make."""
    for thread in threading.enumerate():
        if isinstance(thread, threading.Timer):
            thread.cancel()
