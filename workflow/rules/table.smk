rule table:
    input:
        resolved=per_model("results/resolved/{model}.json"),
        complexity=per_model("results/complexity/{model}.json"),
    output:
        markdown="results/table.md",
        csv="results/table.csv",
    log:
        "logs/table.log",
    conda:
        DRIVER_CONDA_ENV
    params:
        python=driver_python(),
    shell:
        "{params.python} workflow/scripts/make_table.py --resolved {input.resolved}"
        " --complexity {input.complexity} --markdown {output.markdown} --csv {output.csv}"
        " > {log} 2>&1"
