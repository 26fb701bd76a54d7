rule timing:
    input:
        resolved="results/resolved/{model}.json",
        code=step_code("timing"),
    output:
        "results/timing/{model}/{device}.json",
    log:
        "logs/timing/{model}/{device}.log",
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
    shell:
        "{params.python} workflow/scripts/time_model.py {input.resolved} {output} --device {wildcards.device}"
        " --batch-sizes {params.batch_sizes} --policy {params.policy:q} {params.threads} > {log} 2>&1"
