rule timing:
    input:
        resolved="results/resolved/{model}.json",
        export=onnx_export,
        code=step_code("timing"),
    output:
        "results/timing/{model}/{device}/{runtime}.json",
    log:
        "logs/timing/{model}/{device}/{runtime}.log",
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
        " --runtime {wildcards.runtime} {params.export}"
        " --batch-sizes {params.batch_sizes} --policy {params.policy:q} {params.threads} > {log} 2>&1"
