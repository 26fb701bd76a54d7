rule complexity:
    input:
        "results/resolved/{model}.json",
    output:
        "results/complexity/{model}.json",
    log:
        "logs/complexity/{model}.log",
    conda:
        backend_conda_env
    params:
        python=backend_python,
    shell:
        "{params.python} workflow/scripts/count_complexity.py {input} {output} > {log} 2>&1"
