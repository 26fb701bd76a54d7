"""Ultralytics YOLO pose (YOLO11-pose, YOLOv8-pose): the stack people pick instead of MMPose.

A model is the package's own yaml (cfg/models/), named as Ultralytics names it: `11/yolo11n-pose.yaml`
is `11/yolo11-pose.yaml` at scale n. It is built with one class, person, as the published pose
models are (`PoseModel(cfg, nc=1)`: YOLO11's pose yaml says `nc: 80`, YOLOv8's says 1) and random
weights; no checkpoint is read, nothing is downloaded. Ultralytics is AGPL-3.0: the user installs
it (envs/requirements/ultralytics.txt), posebench only imports it, here and in ultralytics_scenes.py.

Nothing may reach the network: the package checks it at import unless told it is offline, so every
import goes through `ultralytics_package()`, which sets the offline switches and a settings folder
inside the working folder first.
"""
from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any, Callable, Dict

from .base import Backend, ConfigError

# Ultralytics' own switches: no network check, no pip install of what it misses, no settings sync
OFFLINE_ENVIRONMENT = {"YOLO_OFFLINE": "1", "YOLO_AUTOINSTALL": "false"}
# its settings.json, inside the working folder (it writes one on first import)
CONFIG_FOLDER = ".ultralytics"
# the predictor's defaults of `predict` (ultralytics/cfg/default.yaml), which the table's step keeps
PREDICT_DEFAULTS = {"conf": 0.25, "iou": 0.7, "max_det": 300}
PERSON_CLASSES = 1


def ultralytics_package():
    """The ultralytics package, imported offline: its switches set before the import, and its
    settings' sync turned off (the only switch it keeps in settings.json rather than the environment)."""
    for name, value in OFFLINE_ENVIRONMENT.items():
        os.environ[name] = value
    os.environ.setdefault("YOLO_CONFIG_DIR", str(Path.cwd() / CONFIG_FOLDER))
    import ultralytics
    from ultralytics.utils import SETTINGS

    if SETTINGS.get("sync"):
        SETTINGS.update({"sync": False})
    return ultralytics


class Ultralytics(Backend):
    name = "ultralytics"
    # no mmcv here: the table's params and FLOPs come from PyTorch's operator counter
    counts_with_mmcv = False

    def config_root(self) -> Path:
        return Path(ultralytics_package().__file__).parent / "cfg" / "models"

    def versions(self) -> Dict[str, str]:
        import cv2
        import torch

        return {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "ultralytics": ultralytics_package().__version__,
            "opencv": cv2.__version__,
            # importing ultralytics sets OpenCV to one thread; build_model sets it to torch's
            "opencv_threads": str(cv2.getNumThreads()),
        }

    def import_libraries(self) -> None:
        super().import_libraries()
        import ultralytics.models.yolo.pose  # noqa: F401
        import ultralytics.nn.tasks  # noqa: F401

    def load_config(self, config_file: Path) -> Dict[str, Any]:
        """The yaml as Ultralytics reads it (its scale from the file's name), with one class."""
        ultralytics_package()
        from ultralytics.nn.tasks import yaml_model_load

        # its own path dropped: the venv's folder would make every machine's config another
        model = {key: value for key, value in yaml_model_load(config_file).items() if key != "yaml_file"}
        scales = model.get("scales") or {}
        if scales and model.get("scale") not in scales:
            # Ultralytics would warn and build the first scale: a row must say which it times
            raise ConfigError("%s names no scale of its yaml (one of %s, as in %s)" % (
                config_file.name, ", ".join(scales), config_file.name.replace("-", "%s-" % next(iter(scales)), 1)))
        model["nc"] = PERSON_CLASSES
        return {"model": model, "input_size": None, "flip_indices": None}

    def build_model(self, model_cfg: Dict[str, Any]):
        """PoseModel from the yaml with one class, unfused (as counted); OpenCV at torch's threads,
        so that every stack pre-processes with the threads it computes with."""
        import cv2
        import torch

        ultralytics_package()
        from ultralytics.nn.tasks import PoseModel

        cv2.setNumThreads(torch.get_num_threads())
        return PoseModel(dict(model_cfg), nc=PERSON_CLASSES, verbose=False).eval()

    def use_counting_forward(self, model) -> None:
        """model(tensor) is already the network alone (its outputs before NMS)."""

    def test_step(self, model, resolved: Dict[str, Any], batch_size: int, device: str) -> Callable[[], Any]:
        """What `predict` runs on a batch once it is a tensor: the network, fused as predict fuses
        it on its first call, then the pose predictor's post-processing (NMS at predict's default
        thresholds, boxes and keypoints scaled to the frame, Results built)."""
        import numpy
        import torch

        height, width = resolved["input_size"]
        inputs = torch.rand(batch_size, 3, height, width, device=device)
        frames = [numpy.zeros((height, width, 3), dtype=numpy.uint8) for _ in range(batch_size)]
        fused(model)
        predictor = pose_predictor(model, batch_size, **PREDICT_DEFAULTS)
        return lambda: predictor.postprocess(model(inputs), inputs, frames)

    def network(self, model):
        """The fused network, its predictions before NMS (boxes, class score, keypoints per anchor)
        as the one output, as Ultralytics' own ONNX export gives them."""
        import torch

        fused(model)

        class Network(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.model = model

            def forward(self, inputs):
                return predictions(type(self.model).forward(self.model, inputs))

        return Network().eval()

    def route_network(self, model, run: Callable[[Any], Any]) -> None:
        model.forward = run


def fused(model):
    """Conv+BN folded as `predict` folds them on its first call (once: it does nothing after)."""
    if not model.is_fused():
        model.fuse(verbose=False)
    return model


def predictions(outputs: Any) -> Any:
    """The eval-mode forward returns (predictions, raw maps); NMS reads the first."""
    return outputs[0] if isinstance(outputs, (list, tuple)) else outputs


def pose_predictor(model, batch_size: int, **overrides):
    """Ultralytics' PosePredictor on `model` as it is (no copy, so a runtime routed into it runs),
    set up as `predict` sets it up for a batch of in-memory frames."""
    ultralytics_package()
    from ultralytics.models.yolo.pose import PosePredictor

    predictor = PosePredictor(overrides=dict(overrides, verbose=False, save=False))
    predictor.model = model
    predictor.batch = (["frame%d" % index for index in range(batch_size)], None, None)
    return predictor


BACKEND = Ultralytics()
