rule complexity:
    input:
        resolved="results/resolved/{model}.json",
        code=step_code("complexity"),
        pins=backend_pins,
    output:
        "results/complexity/{model}.json",
    log:
        "logs/complexity/{model}.log",
    conda:
        backend_conda_env
    params:
        python=backend_python,
    shell:
        "{params.python} workflow/scripts/count_complexity.py {input.resolved} {output} > {log} 2>&1"
