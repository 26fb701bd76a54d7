# a checkpoint: once a round is on disk, the measurements rule decides whether the cell gets another
checkpoint timing:
    input:
        resolved="results/resolved/{model}.json",
        export=onnx_export,
        code=step_code("timing"),
        pins=backend_pins,
    output:
        "results/timing/{model}/{device}/{runtime}/round{round}.json",
    log:
        "logs/timing/{model}/{device}/{runtime}/round{round}.log",
    priority: round_priority
    conda:
        backend_conda_env
    # every core given to snakemake: nothing else runs beside a measurement
    threads: max(1, workflow.cores or 1)
    resources:
        gpu=lambda wildcards: 1 if wildcards.device == "cuda" else 0,
    params:
        python=backend_python,
        batch_sizes=batch_sizes_arg(),
        policy=timing_policy(),
        threads=timing_threads(),
        export=export_dir_arg,
    shell:
        "{params.python} workflow/scripts/time_model.py {input.resolved} {output} --device {wildcards.device}"
        " --runtime {wildcards.runtime} --round {wildcards.round} {params.export}"
        " --batch-sizes {params.batch_sizes} --policy {params.policy:q} {params.threads} > {log} 2>&1"


# Every round of every measurement as one tidy table (a row per round and batch size), the
# statistics of each cell over its rounds, and the environments they ran in.
rule measurements:
    input:
        timing=timing_rounds,
        code=step_code("measurements"),
        pins=driver_pins(),
    output:
        measurements=report(
            in_table_dir("measurements.csv"),
            caption="../report/measurements.rst",
            category="Table",
        ),
        cells=in_table_dir("cells.csv"),
        environment=report(
            in_table_dir("environment.json"),
            caption="../report/environment.rst",
            category="Table",
        ),
    log:
        table_log("measurements"),
    conda:
        DRIVER_CONDA_ENV
    params:
        python=driver_python(),
        target=ROUNDS["target"],
        max_probe_deviation=config["max_probe_deviation"],
    shell:
        "{params.python} workflow/scripts/make_measurements.py {input.timing}"
        " --target {params.target} --max-probe-deviation {params.max_probe_deviation}"
        " --measurements {output.measurements} --cells {output.cells}"
        " --environment {output.environment} > {log} 2>&1"
