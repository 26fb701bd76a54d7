# What defines each model's measurements (merged config, input size, backend versions), and apart
# from it the row's labels (name, algorithm, mAP): a label changes re-run the table, no measurement.
rule resolve:
    input:
        code=step_code("resolve"),
        pins=backend_pins,
    output:
        "results/resolved/{model}.json",
    log:
        "logs/resolve/{model}.log",
    priority: RESOLVE_PRIORITY
    conda:
        backend_conda_env
    params:
        entry=measured_entry_json,
        python=backend_python,
    shell:
        "{params.python} workflow/scripts/resolve_model.py --entry {params.entry:q}"
        " --output {output} > {log} 2>&1"


rule label:
    input:
        seed_table="resources/seed_table.csv",
        published_map="resources/published_map.csv",
        code=step_code("label"),
        pins=backend_pins,
    output:
        "results/labels/{model}.json",
    log:
        "logs/label/{model}.log",
    priority: RESOLVE_PRIORITY
    conda:
        backend_conda_env
    params:
        entry=entry_json,
        python=backend_python,
    shell:
        "{params.python} workflow/scripts/label_model.py --entry {params.entry:q}"
        " --seed-table {input.seed_table} --published-map {input.published_map}"
        " --output {output} > {log} 2>&1"
