"""Scenes on Ultralytics: a whole frame through `predict`'s own steps, as its predictor runs them on
each frame (ultralytics.engine.predictor.BasePredictor.stream_inference): preprocess (letterbox,
BGR to RGB, to a tensor), inference (the network, fused as predict fuses it), postprocess (NMS,
boxes and keypoints scaled back to the frame, Results). Those three are Ultralytics' own split of
a frame's time, and the scene's stages. Loaded by name (posebench/scenes/frames.py) for the scene
rounds only."""
from __future__ import annotations

import functools
import types
from typing import Any, Callable, Dict, List, Optional

from .base import NEAR_ONE
from .ultralytics import PREDICT_DEFAULTS, Ultralytics, ultralytics_package

# `predict`'s own defaults where the predictor's differ (ultralytics.engine.model.Model.predict):
# a rectangular letterbox, to the frame's aspect at the stride (480×640 stays 480×640)
PREDICT_CALL = {"rect": True, "batch": 1}


class UltralyticsScenes:
    """What posebench/scenes/frames.py asks of a backend; `clock` is its StageClock."""

    def __init__(self, backend: Ultralytics):
        self.backend = backend

    def scene_model(self, resolved: Dict[str, Any], device: str, clock):
        """The pose predictor as `predict` sets it up on the model (random weights, as
        build_seeded gives them): its AutoBackend copy of the model, fused; its network's calls
        timed, with the input size it really ran at."""
        ultralytics_package()
        import torchvision  # noqa: F401  (predict imports it: NMS then runs its kernel, not a Python loop)
        from ultralytics.models.yolo.pose import PosePredictor

        model = self.backend.build_seeded(resolved["model_cfg"])
        height, width = resolved["input_size"]
        predictor = PosePredictor(overrides=dict(PREDICT_DEFAULTS, **PREDICT_CALL, imgsz=max(height, width),
                                                 device=device, verbose=False, save=False))
        predictor.setup_model(model, verbose=False)
        clock.wrap(predictor.model, "forward", clock.NETWORK, counts_batch=True)
        return predictor

    def scene_detector(self, config: str, device: str):
        raise ValueError("Ultralytics YOLO pose runs once per frame: it takes no person detector")

    @staticmethod
    def force_instances(predictor, people: int) -> Optional[str]:
        """Exactly N people: every anchor over the score threshold (0), the N best into NMS
        (its max_nms, as RTMO's nms_pre), an IoU threshold that keeps them all, N kept (max_det).
        Random weights score the anchors of one stride level all alike (0.0123 at stride 8 for
        YOLO11n), so no threshold between scores can pick N: the cap on NMS's input does, and NMS
        sees N candidates as it does for MMPose's one-stage models."""
        predictor.args.conf, predictor.args.iou, predictor.args.max_det = 0.0, NEAR_ONE, people
        cap_nms_candidates(people)
        return None

    @staticmethod
    def scene_step(predictor, detector, frame, boxes: Optional[List[List[float]]], clock) -> Callable[[], Any]:
        """One frame through predict's three steps, as stream_inference runs them on a batch of one."""
        predictor.setup_source(frame)
        predictor.batch = (["frame"], [frame], [""])

        def step():
            with clock.stage(clock.PREPROCESSING):
                image = predictor.preprocess([frame])
            with clock.stage(clock.PREDICT):
                return predictor.postprocess(predictor.inference(image), image, [frame])

        return step

    @staticmethod
    def decoded_instances(results) -> int:
        return sum(len(result.boxes) for result in results)


def cap_nms_candidates(limit: int) -> None:
    """The pose predictor's NMS (ultralytics.utils.nms.non_max_suppression, which it calls with
    max_nms at its default of 30,000) with at most `limit` candidates in; for this process only."""
    from ultralytics.models.yolo.detect import predict as detect_predict
    from ultralytics.utils import nms

    capped = functools.partial(nms.non_max_suppression, max_nms=limit)
    detect_predict.nms = types.SimpleNamespace(non_max_suppression=capped)


def scenes_of(backend: Ultralytics) -> UltralyticsScenes:
    return UltralyticsScenes(backend)
