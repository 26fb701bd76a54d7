"""After a complete run, Snakemake plans only the jobs whose own inputs changed."""
import os
import re
from collections import Counter

import pytest
from conftest import tiny_timing

TINY_TIMING = tiny_timing(1)
MODELS = ["shufflenetv2_coco_256x192", "deeppose_res50_coco_256x192"]
ADDED_ROW = """
  - id: mobilenetv2_again
    algorithm: topdown_heatmap
    model: MobilenetV2
    backend: mmpose1
    config: body_2d_keypoint/topdown_heatmap/coco/td-hm_mobilenetv2_8xb64-210e_coco-256x192.py
    input_size: 256x192
"""


def planned(workflow, models=MODELS, timing=TINY_TIMING, *config):
    """The (rule, model) pairs a dry run would run; model is None for the table."""
    run = workflow.snakemake("-n", "results/table.md", "--config", "select=[%s]" % ",".join(models), timing, *config)
    assert run.returncode == 0, run.stderr[-2000:]
    jobs, rule = Counter(), None
    for line in (run.stdout + run.stderr).splitlines():
        started = re.match(r"^(?:local)?(?:rule|checkpoint) (\w+):", line)
        if started:
            rule = started[1]
            if rule in AGGREGATES:
                jobs[(rule, None)] += 1
        found = re.search(r"wildcards: model=([\w.-]+)(?:, device=\w+, runtime=\w+, round=(\d+))?", line)
        if found and rule:
            jobs[(rule, found[1] if not found[2] else "%s round %s" % (found[1], found[2]))] += 1
    return jobs


AGGREGATES = ("measurements", "table")


def model_jobs(model, rules=("resolve", "label", "complexity", "timing"), rounds=(1,)):
    jobs = Counter({(rule, model): 1 for rule in rules if rule != "timing"})
    if "timing" in rules:
        jobs.update({("timing", "%s round %d" % (model, number)): 1 for number in rounds})
    return jobs


def edit(workflow, relative, old, new):
    path = workflow.root / relative
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


@pytest.mark.prepared
def test_reruns_follow_each_models_own_inputs(workflow):
    run = workflow.snakemake("results/table.md", "--config", "select=[%s]" % ",".join(MODELS), TINY_TIMING)
    assert run.returncode == 0, run.stderr[-3000:]
    table = Counter({("table", None): 1})
    measured = table + Counter({("measurements", None): 1})

    assert planned(workflow) == Counter()

    # a report module, and the CPUs' placement (a diagnostic the rounds read only where
    # timing.read_placement asks): no measuring job, only what reads the records. (A bare `touch`
    # re-runs nothing at all: Snakemake keeps its inputs' checksums and sees the same content.)
    for module in ("report/table.py", "measure/placement.py"):
        path = workflow.root / "workflow" / "scripts" / "posebench" / module
        path.write_text(path.read_text() + "# edited\n")
    assert planned(workflow) == measured

    # the statistics over rounds: the cells and the table, no timing
    edit(workflow, "workflow/scripts/posebench/stats.py", '"""How sure', '"""(edited) How sure')
    assert planned(workflow) == measured

    # more rounds: only the new rounds are timed, then the cells and the table
    assert planned(workflow, timing=TINY_TIMING.replace("rounds: 1", "rounds: 3")) == sum(
        (model_jobs(model, ["timing"], rounds=(2, 3)) for model in MODELS), Counter()) + measured

    # re-measure: more rounds for the cells the run marked unsteady, and only for those
    cells = workflow.root / "results" / "cells.csv"
    cells.write_text("id,device,runtime,batch_size,unsteady\n%s,cpu,eager,10,between-round CV 0.2\n%s,cpu,eager,1,\n"
                     % (MODELS[1], MODELS[0]))
    assert planned(workflow, MODELS, TINY_TIMING, "remeasure=2") == model_jobs(MODELS[1], ["timing"], rounds=(2, 3)) + measured

    # (the statistics edit above stays pending in every dry run below: the cells and the table)
    # a module a step comes to import (and only that): the step's jobs, as its code is derived
    extra = workflow.root / "workflow" / "scripts" / "posebench" / "extra.py"
    extra.write_text('"""A module no step imports yet."""\n')
    assert planned(workflow) == measured
    labels = workflow.root / "workflow" / "scripts" / "posebench" / "catalog" / "labels.py"
    stamp = labels.stat()
    edit(workflow, "workflow/scripts/posebench/catalog/labels.py", "from posebench.catalog.metafile",
         "from posebench import extra  # noqa: F401\nfrom posebench.catalog.metafile")
    os.utime(labels, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))  # the import alone, not the edit, re-runs it
    labelled = sum((model_jobs(model, ["label"]) for model in MODELS), Counter()) + measured
    assert planned(workflow) == labelled

    # a label (the display name): that model's label and the table, no measurement
    edit(workflow, "config/models.yaml", "model: ShuffleNetV2\n", "model: ShuffleNet V2\n")
    assert planned(workflow) == labelled

    # the seed table (mAP where no metafile has one): the labels and the table
    edit(workflow, "resources/seed_table.csv", "256x192,0.599,1.37", "256x192,0.6,1.37")
    assert planned(workflow) == labelled

    # a new model: its jobs and the table
    models = workflow.root / "config" / "models.yaml"
    models.write_text(models.read_text() + ADDED_ROW)
    assert planned(workflow, MODELS + ["mobilenetv2_again"]) == labelled + model_jobs("mobilenetv2_again")

    # the timing policy: every timing job, nothing else but the table
    slower = TINY_TIMING.replace("iterations: 3", "iterations: 4")
    assert planned(workflow, MODELS[1:], slower) == model_jobs(MODELS[1], ["label", "timing"]) + measured

    # a script: the jobs that run it (the cells too here: one model fewer than the run measured)
    edit(workflow, "workflow/scripts/posebench/measure/complexity.py", '"""Step 2', '"""Step 2 (edited)')
    assert planned(workflow, MODELS[1:]) == model_jobs(MODELS[1], ["label", "complexity"]) + measured
    edit(workflow, "workflow/scripts/posebench/report/table.py", '"""Step last', '"""Step last (edited)')
    assert planned(workflow, MODELS[1:]) == model_jobs(MODELS[1], ["label", "complexity"]) + measured

    # a backend's pins: exactly that backend's jobs (both models run on mmpose1)
    edit(workflow, "envs/requirements/mmpose0.txt", "mmpose==0.29.0", "mmpose==0.29.0  # pinned")
    assert planned(workflow, MODELS[1:]) == model_jobs(MODELS[1], ["label", "complexity"]) + measured
    edit(workflow, "envs/requirements/mmpose1.txt", "mmpose==1.3.2", "mmpose==1.3.2  # pinned")
    assert planned(workflow, MODELS[1:]) == model_jobs(MODELS[1]) + measured
