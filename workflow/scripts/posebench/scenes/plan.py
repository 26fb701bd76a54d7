"""Which scenes a run times (config `scenes`), read when the Snakefile is parsed: a scene is a
person detector with a top-down model of the list, on MMPose's own path or on rtmlib's (ONNX Runtime
or OpenVINO on posebench's exports), or a one-stage or bottom-up model alone."""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from posebench.runtimes.names import RTMLIB_BACKEND

# a scene round's runtime, in its record and the tidy tables made from it
SCENE_RUNTIME = "scene"
# where a frame's time goes, in order
DETECTOR, PREPROCESSING, NETWORK, DECODING = "detector", "preprocessing", "network", "decoding"
STAGES = [DETECTOR, PREPROCESSING, NETWORK, DECODING]
# the backends with a scenes adapter (backends/{name}_scenes.py)
SCENE_BACKENDS = ("mmpose1", "ultralytics")
# what runs a top-down pipeline: MMPose's own top-down path, or rtmlib (numpy pre- and
# post-processing, one crop per call) on a runtime, from posebench's ONNX exports
MMPOSE_STACK = "mmpose"
RTMLIB_STACKS = {"rtmlib-onnxruntime": "onnxruntime", "rtmlib-openvino": "openvino"}


def scene_id(detector: Optional[str], model_id: str, stack: str = MMPOSE_STACK) -> str:
    if not detector:
        return model_id
    return "%s+%s" % (detector, model_id) + ("" if stack == MMPOSE_STACK else "+" + stack)


def scene_plan(scenes: Dict[str, Any], list_backends: Dict[str, str], selected: List[str], where: str) -> Dict[str, Dict]:
    """scene id -> {"model": the pose model's id, "detector": its name or None}, for the scenes
    whose model the run selected. `list_backends`: every model of the list, with its backend.
    An unknown detector or model, or a model on a backend without scenes, is a one-line error."""
    if not scenes.get("people"):
        return {}
    plan = {}
    for index, (detector, model_id, *stack) in enumerate(scenes.get("pipelines") or []):
        field = "%s: field scenes.pipelines.%d" % (where, index)
        if detector not in scenes["detectors"]:
            raise ValueError("%s: unknown detector %r (scenes.detectors has %s)"
                             % (field, detector, ", ".join(sorted(scenes["detectors"]))))
        stack = stack[0] if stack else MMPOSE_STACK
        if stack != MMPOSE_STACK and stack not in RTMLIB_STACKS:
            raise ValueError("%s: unknown stack %r (one of %s)"
                             % (field, stack, ", ".join([MMPOSE_STACK] + sorted(RTMLIB_STACKS))))
        plan[scene_id(detector, model_id, stack)] = (field, {"model": model_id, "detector": detector, "stack": stack})
    for index, model_id in enumerate(scenes.get("one_stage") or []):
        plan[scene_id(None, model_id)] = ("%s: field scenes.one_stage.%d" % (where, index),
                                          {"model": model_id, "detector": None, "stack": MMPOSE_STACK})
    for field, scene in plan.values():
        backend = list_backends.get(scene["model"])
        if backend is None:
            raise ValueError("%s: %r is not a model of the list" % (field, scene["model"]))
        if backend not in SCENE_BACKENDS:
            raise ValueError("%s: %r runs on %s; scenes need %s" % (field, scene["model"], backend, " or ".join(SCENE_BACKENDS)))
        if scene["stack"] in RTMLIB_STACKS and backend != RTMLIB_BACKEND:
            raise ValueError("%s: %r runs on %s; rtmlib runs exports of %s models"
                             % (field, scene["model"], backend, RTMLIB_BACKEND))
    return {name: scene for name, (_, scene) in plan.items() if scene["model"] in selected}
