rule table:
    input:
        resolved=per_model("results/resolved/{model}.json"),
        complexity=per_model("results/complexity/{model}.json"),
        timing=per_model_and_device("results/timing/{model}/{device}/eager.json"),
        seed_table="resources/seed_table.csv",
        code=step_code("table"),
    output:
        markdown="results/table.md",
        csv=report("results/table.csv", caption="../report/table.rst", category="Table"),
        environment=report(
            "results/environment.json",
            caption="../report/environment.rst",
            category="Table",
        ),
    log:
        "logs/table.log",
    conda:
        DRIVER_CONDA_ENV
    params:
        python=driver_python(),
        batch_sizes=batch_sizes_arg(),
        max_cv=config["max_cv"],
    shell:
        "{params.python} workflow/scripts/make_table.py --resolved {input.resolved}"
        " --complexity {input.complexity} --timing {input.timing}"
        " --batch-sizes {params.batch_sizes} --seed-table {input.seed_table} --max-cv {params.max_cv}"
        " --markdown {output.markdown} --csv {output.csv}"
        " --environment {output.environment} > {log} 2>&1"
