rule resolve:
    input:
        seed_table="resources/seed_table.csv",
        code=step_code("resolve"),
    output:
        "results/resolved/{model}.json",
    log:
        "logs/resolve/{model}.log",
    priority: RESOLVE_PRIORITY
    conda:
        backend_conda_env
    params:
        entry=entry_json,
        python=backend_python,
    shell:
        "{params.python} workflow/scripts/resolve_model.py --entry {params.entry:q}"
        " --seed-table {input.seed_table} --output {output} > {log} 2>&1"
