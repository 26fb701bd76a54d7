# posebench: params, FLOPs and inference speed of MMPose models, as MMPose's "Inference Speed" table.
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/resolve.smk"
include: "workflow/rules/complexity.smk"
include: "workflow/rules/timing.smk"
include: "workflow/rules/table.smk"
include: "workflow/rules/runtimes.smk"
include: "workflow/rules/plots.smk"
include: "workflow/rules/page.smk"
include: "workflow/rules/scenes.smk"


rule all:
    input:
        get_final_output(),


onsuccess:
    cancel_selection_timers()


onerror:
    cancel_selection_timers()
