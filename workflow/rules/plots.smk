rule plots:
    input:
        table=in_table_dir("table.csv"),
        environment=in_table_dir("environment.json"),
        combine_with=combine_record("table.csv"),
        combine_environment=combine_record("environment.json"),
        code=step_code("plots"),
        pins=driver_pins(),
    output:
        png=[
            report(file, caption="../report/plot.rst", category="Speed and accuracy")
            for file in plot_files("png")
        ],
        svg=plot_files("svg"),
    log:
        table_log("plots"),
    conda:
        DRIVER_CONDA_ENV
    params:
        python=driver_python(),
        devices=devices_arg(),
        batch_sizes=batch_sizes_arg(),
        plots=plots_dir,
        combine=combine_args,
    shell:
        "{params.python} workflow/scripts/make_plots.py {input.table} --environment {input.environment}"
        " --devices {params.devices} --batch-sizes {params.batch_sizes}"
        " --output-dir {params.plots} {params.combine} > {log} 2>&1"


rule compare:
    input:
        table=in_table_dir("table.csv"),
        measurements=in_table_dir("measurements.csv"),
        theirs=compare_source,
        theirs_rounds=compare_rounds,
        environment=in_table_dir("environment.json"),
        theirs_environment=compare_environment,
        code=step_code("compare"),
        pins=driver_pins(),
    output:
        report(
            in_table_dir("compare_{against}.md"),
            caption="../report/compare.rst",
            category="Comparisons",
        ),
    log:
        table_log("compare_{against}"),
    conda:
        DRIVER_CONDA_ENV
    params:
        python=driver_python(),
        name=compare_name,
        batch_sizes=batch_sizes_arg(),
        threshold=config["compare"]["threshold"],
        alpha=config["compare"]["alpha"],
    shell:
        "{params.python} workflow/scripts/compare_runs.py {input.table} {input.theirs} --name {params.name:q}"
        " --batch-sizes {params.batch_sizes} --threshold {params.threshold} --alpha {params.alpha}"
        " --output {output} > {log} 2>&1"
