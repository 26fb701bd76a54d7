rule export_onnx:
    input:
        resolved="results/resolved/{model}.json",
        code=step_code("export"),
        pins=backend_pins,
    output:
        directory("results/onnx/{model}"),
    log:
        "logs/export_onnx/{model}.log",
    # before any round: a round of a runtime beyond eager waits on it
    priority: RESOLVE_PRIORITY
    conda:
        backend_conda_env
    params:
        python=backend_python,
    shell:
        "{params.python} workflow/scripts/export_onnx.py {input.resolved} {output} > {log} 2>&1"


# the export quantized to INT8 for OpenVINO by NNCF, once per model (openvino_int8 times it)
rule quantize_int8:
    input:
        resolved="results/resolved/{model}.json",
        export="results/onnx/{model}",
        code=step_code("quantize"),
        pins=backend_pins,
    output:
        directory("results/openvino_int8/{model}"),
    log:
        "logs/quantize_int8/{model}.log",
    # before any round, as the export: else a late one leaves its cell's rounds to the end
    priority: RESOLVE_PRIORITY
    conda:
        backend_conda_env
    params:
        python=backend_python,
    shell:
        "{params.python} workflow/scripts/quantize_int8.py {input.resolved} {input.export} {output} > {log} 2>&1"


rule runtimes:
    input:
        resolved=per_model("results/resolved/{model}.json"),
        labels=per_model("results/labels/{model}.json"),
        complexity=per_model("results/complexity/{model}.json"),
        cells=in_table_dir("cells.csv"),
        code=step_code("runtimes"),
        pins=driver_pins(),
    output:
        markdown=in_table_dir("runtimes.md"),
        csv=report(
            in_table_dir("runtimes.csv"),
            caption="../report/runtimes.rst",
            category="Runtimes",
        ),
    log:
        table_log("runtimes"),
    conda:
        DRIVER_CONDA_ENV
    params:
        python=driver_python(),
        devices=devices_arg(),
        batch_sizes=batch_sizes_arg(),
        runtimes=" ".join(RUNTIMES),
    shell:
        "{params.python} workflow/scripts/make_runtimes.py --resolved {input.resolved}"
        " --labels {input.labels} --complexity {input.complexity} --cells {input.cells} --devices {params.devices}"
        " --batch-sizes {params.batch_sizes} --runtimes {params.runtimes}"
        " --markdown {output.markdown} --csv {output.csv} > {log} 2>&1"
