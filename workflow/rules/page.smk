rule page:
    input:
        table=in_table_dir("table.csv"),
        cells=in_table_dir("cells.csv"),
        markdown=in_table_dir("table.md"),
        runtimes=runtimes_table(),
        combine_with=combine_record("table.csv"),
        combine_cells=combine_record("cells.csv"),
        scenes=scenes_record("scenes.csv"),
        scenes_markdown=scenes_record("scenes.md"),
        code=step_code("page"),
        pins=driver_pins(),
    output:
        report(
            in_table_dir("index.html"),
            caption="../report/page.rst",
            category="Explore",
        ),
    log:
        table_log("page"),
    conda:
        DRIVER_CONDA_ENV
    params:
        python=driver_python(),
        target=ROUNDS["target"],
        max_probe_deviation=config["max_probe_deviation"],
        optional=page_args,
    shell:
        "{params.python} workflow/scripts/make_page.py --table {input.table} --cells {input.cells}"
        " --markdown {input.markdown} --target {params.target}"
        " --max-probe-deviation {params.max_probe_deviation} {params.optional}"
        " --output {output} > {log} 2>&1"
