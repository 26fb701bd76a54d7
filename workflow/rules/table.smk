rule table:
    input:
        resolved=per_model("results/resolved/{model}.json"),
        labels=per_model("results/labels/{model}.json"),
        complexity=per_model("results/complexity/{model}.json"),
        cells=in_table_dir("cells.csv"),
        measurements=in_table_dir("measurements.csv"),
        environment=in_table_dir("environment.json"),
        seed_table="resources/seed_table.csv",
        reference=reference_measurements(),
        code=step_code("table"),
        pins=driver_pins(),
    output:
        markdown=in_table_dir("table.md"),
        csv=report(
            in_table_dir("table.csv"), caption="../report/table.rst", category="Table"
        ),
    log:
        table_log("table"),
    conda:
        DRIVER_CONDA_ENV
    params:
        python=driver_python(),
        devices=devices_arg(),
        batch_sizes=batch_sizes_arg(),
        target=ROUNDS["target"],
        max_probe_deviation=config["max_probe_deviation"],
        reference=reference_arg,
        flops_counter=config["flops_counter"],
    shell:
        "{params.python} workflow/scripts/make_table.py --resolved {input.resolved}"
        " --labels {input.labels} --complexity {input.complexity} --cells {input.cells} --measurements {input.measurements}"
        " --environment {input.environment} --devices {params.devices} --batch-sizes {params.batch_sizes}"
        " --seed-table {input.seed_table} --target {params.target}"
        " --max-probe-deviation {params.max_probe_deviation} {params.reference}"
        " --flops-counter {params.flops_counter}"
        " --markdown {output.markdown} --csv {output.csv} > {log} 2>&1"
