rule timing:
    input:
        "results/resolved/{model}.json",
    output:
        "results/timing/{model}/{device}.json",
    log:
        "logs/timing/{model}/{device}.log",
    conda:
        backend_conda_env
    # every core given to snakemake: nothing else runs beside a measurement
    threads: workflow.cores
    params:
        python=backend_python,
        batch_sizes=" ".join(str(size) for size in config["batch_sizes"]),
        policy=timing_policy(),
        threads=timing_threads(),
    shell:
        "{params.python} workflow/scripts/time_model.py {input} {output} --device {wildcards.device}"
        " --batch-sizes {params.batch_sizes} --policy {params.policy:q} {params.threads} > {log} 2>&1"
