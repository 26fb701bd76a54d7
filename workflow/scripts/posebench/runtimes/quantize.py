"""Step: quantize one model's ONNX export to INT8 for OpenVINO once, with NNCF's post-training
quantization, calibrated on random inputs made as the timing inputs are (no data set: the weights
are random too). What it gives is timed for speed only: no accuracy is measured."""
from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, Dict

from posebench.failures import ModelFailure, model_stage
from posebench.records import read_json, write_json
from posebench.runtimes.export import EXPORT_RECORD, ONNX_FILE
from posebench.runtimes.names import SPEED_ONLY

INT8_FILE = "model.xml"
QUANTIZATION_RECORD = "quantization.json"
QUANTIZED = "quantized"
QUANTIZATION_FAILED = "quantization failed"
# NNCF's calibration set: batch-1 inputs drawn as the timing inputs are (normal, seeded)
CALIBRATION_SAMPLES = 32
CALIBRATION_SEED = 0


def calibration_inputs(input_size, count: int = CALIBRATION_SAMPLES):
    import torch

    height, width = input_size
    generator = torch.Generator().manual_seed(CALIBRATION_SEED)
    return [torch.randn(1, 3, height, width, generator=generator).numpy() for _ in range(count)]


def quantize_int8(onnx_path: Path, input_size, output: Path) -> Dict[str, Any]:
    """The export quantized by NNCF and saved for OpenVINO; returns what the record holds."""
    import nncf
    import openvino

    start = time.perf_counter()
    model = openvino.Core().read_model(str(onnx_path))
    quantized = nncf.quantize(model, nncf.Dataset(calibration_inputs(input_size)), subset_size=CALIBRATION_SAMPLES)
    openvino.save_model(quantized, str(output / INT8_FILE))
    return {
        "status": QUANTIZED, "seconds": time.perf_counter() - start,
        "calibration": "%d random normal inputs of batch size 1 (seed %d), made as the timing inputs are"
                       % (CALIBRATION_SAMPLES, CALIBRATION_SEED),
        "openvino": openvino.__version__, "nncf": nncf.__version__,
        "accuracy": SPEED_ONLY["openvino_int8"],
    }


def quantize_model(resolved: Dict[str, Any], export_dir: Path, output: Path) -> Dict[str, Any]:
    """output/: model.xml and .bin with quantization.json, or the record alone saying why not (a
    failed export, or a network NNCF or OpenVINO cannot take). Written whole or not at all."""
    export = read_json(Path(export_dir) / EXPORT_RECORD)
    staging = Path(tempfile.mkdtemp(prefix=output.name + ".", dir=str(output.parent)))
    try:
        if export["status"] != "exported":
            record = {"status": "failed", "kind": QUANTIZATION_FAILED, "message": "no ONNX export: " + export["message"]}
        else:
            try:
                with model_stage("INT8 quantization"):
                    record = quantize_int8(Path(export_dir) / ONNX_FILE, resolved["input_size"], staging)
            except ModelFailure as failure:
                record = dict(failure.record, kind=QUANTIZATION_FAILED)
        write_json(staging / QUANTIZATION_RECORD, dict(record, id=resolved["id"]))
        if output.exists():
            shutil.rmtree(output)
        staging.rename(output)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return record
