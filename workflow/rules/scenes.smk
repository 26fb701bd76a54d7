# A scene's round, a checkpoint as a model's timing round is: once it is on disk, the scenes rule's
# input decides whether the scene gets another.
checkpoint scene_timing:
    input:
        resolved=scene_resolved,
        exports=scene_exports,
        code=scene_code,
        pins=backend_pins,
    output:
        "results/scenes/{scene}/{device}/round{round}.json",
    log:
        "logs/scenes/{scene}/{device}/round{round}.log",
    priority: round_priority
    conda:
        backend_conda_env
    # every core given to snakemake: nothing else runs beside a measurement
    threads: max(1, workflow.cores or 1)
    resources:
        gpu=lambda wildcards: 1 if wildcards.device == "cuda" else 0,
    params:
        python=backend_python,
        detector=scene_detector_arg,
        stack=scene_stack_arg,
        people=scene_people_arg(),
        frame_size=scene_frame_size_arg(),
        policy=timing_policy(),
        threads=timing_threads(),
    shell:
        "{params.python} workflow/scripts/time_scene.py {input.resolved} {output} --scene {wildcards.scene}"
        " --device {wildcards.device} --round {wildcards.round} {params.detector} {params.stack}"
        " --people {params.people}"
        " --frame-size {params.frame_size} --policy {params.policy:q} {params.threads} > {log} 2>&1"


# Frames per second per scene and number of people, each stage's share, the crossings, the plot.
rule scenes:
    input:
        rounds=scene_rounds,
        labels=scene_labels(),
        code=step_code("scenes"),
        pins=driver_pins(),
    output:
        csv=report(
            in_table_dir("scenes.csv"),
            caption="../report/scenes.rst",
            category="Scenes",
        ),
        markdown=in_table_dir("scenes.md"),
        measurements=in_table_dir("scene_measurements.csv"),
        plots=[
            report(file, caption="../report/scenes.rst", category="Scenes")
            for file in scene_plot_files()
        ],
    log:
        table_log("scenes"),
    conda:
        DRIVER_CONDA_ENV
    params:
        python=driver_python(),
        target=ROUNDS["target"],
        max_probe_deviation=config["max_probe_deviation"],
    shell:
        "{params.python} workflow/scripts/make_scenes.py {input.rounds} --labels {input.labels}"
        " --target {params.target} --max-probe-deviation {params.max_probe_deviation}"
        " --measurements {output.measurements} --csv {output.csv} --markdown {output.markdown}"
        " --plots {output.plots} > {log} 2>&1"


# A person detector exported for rtmlib (the scenes' rtmlib stacks): its network in the layout
# rtmlib's RTMDet decodes, at its test size, once per detector.
rule export_detector:
    input:
        code=detector_code(),
        pins=f"envs/requirements/{RTMLIB_BACKEND}.txt",
    output:
        directory("results/detectors/{detector}"),
    log:
        "logs/export_detector/{detector}.log",
    priority: RESOLVE_PRIORITY
    conda:
        CONDA_ENVS[RTMLIB_BACKEND]
    params:
        python=python_of(RTMLIB_BACKEND),
        config=detector_config,
    shell:
        "{params.python} workflow/scripts/export_detector.py {wildcards.detector:q} {params.config:q}"
        " {output} > {log} 2>&1"
