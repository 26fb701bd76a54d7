"""Step: export one model's network (backbone, neck, head) to ONNX once, for the onnxruntime
timing jobs. Its own module (and rule): what the export does is apart from how the runtimes are
checked and timed, so a change to one does not re-run the other's jobs."""
from __future__ import annotations

import importlib
import inspect
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple

from posebench.backends import get_backend
from posebench.failures import ModelFailure, model_stage
from posebench.records import write_json
from posebench.runtimes.names import RTMLIB_BACKEND

ONNX_FILE = "model.onnx"
EXPORT_RECORD = "export.json"
ONNX_OPSET = 17


def flat_outputs(outputs: Any) -> Tuple[List[Any], Any]:
    """The network's tensors in a flat list, and the structure to put them back into."""
    from torch.utils import _pytree

    return _pytree.tree_flatten(outputs)


def export_onnx(network, input_shape: List[int], path: Path) -> Dict[str, Any]:
    """Export the network with a free batch size; returns what the export record holds."""
    import torch

    example = torch.randn(*input_shape)
    with torch.no_grad():
        count = len(flat_outputs(network(example))[0])
    outputs = ["output%d" % index for index in range(count)]
    options = {}
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        options["dynamo"] = False  # the TorchScript exporter: torch 2.9+ defaults to the dynamo one
    start = time.perf_counter()
    torch.onnx.export(
        network, (example,), str(path), opset_version=ONNX_OPSET, input_names=["input"], output_names=outputs,
        dynamic_axes={name: {0: "batch"} for name in ["input"] + outputs}, **options
    )
    return {"opset": ONNX_OPSET, "outputs": count, "seconds": time.perf_counter() - start, "torch": torch.__version__}


def deploy_mode(model):
    """The model as it is exported for deployment, where it has a deploy switch (MMPose 1.x's
    `switch_to_deploy`, which mmdeploy calls before exporting): re-parameterised blocks fused and
    the constants of the test size precomputed (RTMO's encoder cannot be traced without them).
    The same function: the timing job checks the exported network's outputs against eager's."""
    switch = getattr(model, "switch_to_deploy", None)
    if callable(switch):
        switch()
    return model


def export_model(resolved: Dict[str, Any], output_dir: Path) -> Dict[str, Any]:
    """Export one resolved model's network to output_dir/model.onnx, with output_dir/export.json
    saying how it went. A model that does not export gets a record, not a crash. The folder
    appears whole or not at all."""

    def export(staging: Path) -> Dict[str, Any]:
        record = {"id": resolved["id"], "config_hash": resolved["config_hash"]}
        backend = get_backend(resolved["backend"])
        height, width = resolved["input_size"]
        try:
            with model_stage("ONNX export"):
                network = backend.network(deploy_mode(backend.build_seeded(resolved["model_cfg"])))
                record.update(export_onnx(network, [1, 3, height, width], staging / ONNX_FILE), status="exported")
        except ModelFailure as failure:
            record.update(status="failed", message=failure.record["message"])
        return record

    return in_staging(output_dir, export)


def export_detector(name: str, config: str, output_dir: Path) -> Dict[str, Any]:
    """Export a person detector of the scenes (config scenes.detectors) for rtmlib: its network in
    the layout rtmlib's RTMDet decodes, at its test size, to output_dir/model.onnx, with
    output_dir/export.json. The folder appears whole or not at all; a detector that does not
    export fails the job (the scenes that need it cannot run)."""

    def export(staging: Path) -> Dict[str, Any]:
        scenes = importlib.import_module("posebench.backends.%s_scenes" % RTMLIB_BACKEND).scenes_of(
            get_backend(RTMLIB_BACKEND))
        network, input_size = scenes.rtmlib_detector(config)
        record = {"detector": name, "config": config, "input_size": input_size,
                  "layout": "rtmlib RTMDet, no NMS inside: per anchor x, y, log w, log h (strides), 1, class scores"}
        record.update(export_onnx(network, [1, 3] + input_size, staging / ONNX_FILE), status="exported")
        return record

    return in_staging(output_dir, export)


def in_staging(output_dir: Path, export: Callable[[Path], Dict[str, Any]]) -> Dict[str, Any]:
    """Run `export` into a staging folder beside output_dir, write its record there as
    export.json, and rename the folder to output_dir: it appears whole or not at all."""
    output_dir = Path(output_dir)
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=str(output_dir.parent), prefix="." + output_dir.name + "."))
    try:
        record = export(staging)
        write_json(staging / EXPORT_RECORD, record)
        shutil.rmtree(str(output_dir), ignore_errors=True)
        staging.rename(output_dir)
    finally:
        shutil.rmtree(str(staging), ignore_errors=True)
    return record
