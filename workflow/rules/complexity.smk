rule complexity:
    input:
        "results/resolved/{model}.json",
    output:
        "results/complexity/{model}.json",
    log:
        "logs/complexity/{model}.log",
    params:
        python=backend_python,
    conda:
        backend_conda_env
    shell:
        "{params.python} workflow/scripts/count_complexity.py {input} {output} > {log} 2>&1"
