# posebench: params, FLOPs and inference speed of MMPose models, as MMPose's "Inference Speed" table.
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/resolve.smk"
include: "workflow/rules/complexity.smk"
include: "workflow/rules/timing.smk"
include: "workflow/rules/table.smk"


rule all:
    input:
        get_final_output(),
