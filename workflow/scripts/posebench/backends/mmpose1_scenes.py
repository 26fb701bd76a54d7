"""Scenes on MMPose 1.x: whole frames through MMPose's own inference path, with mmdet 3.x's person
detectors. Loaded by name (posebench/scenes/frames.py) for the scene rounds only, so that the model
rounds do not run its code and a change to it does not re-time them."""
from __future__ import annotations

import logging
import random
from typing import Any, Callable, Dict, List, Optional

from .mmpose1 import MMPose1

# IoU above which NMS drops the lower-scored of two boxes: near one, so that the N candidates kept
# all come out of a non-maximum suppression that still runs over them
NEAR_ONE = 0.999


class MMPose1Scenes:
    """What posebench/scenes/frames.py asks of a backend; `clock` is its StageClock."""

    def __init__(self, backend: MMPose1):
        self.backend = backend

    def scene_model(self, resolved: Dict[str, Any], device: str, clock):
        """The pose model with random weights (as build_seeded gives them), its config and
        dataset meta attached as mmpose.apis.init_model attaches them; its network's calls timed."""
        from mmengine.config import Config
        from mmpose.apis.inference import dataset_meta_from_config

        model = self.backend.build_seeded(resolved["model_cfg"]).to(device)
        model.cfg = Config.fromfile(resolved["config_file"])
        model.dataset_meta = dataset_meta_from_config(model.cfg, dataset_mode="train")
        clock.wrap(model.backbone, "forward", clock.NETWORK, counts_batch=True)
        neck = [model.neck] if getattr(model, "neck", None) is not None else []
        for stage in neck + [model.head]:
            clock.wrap(stage, "forward", clock.NETWORK)
        return model

    def scene_detector(self, config: str, device: str):
        """mmdet's init_detector on a config inside the mmpose package's .mim folder, its pipeline
        adapted as MMPose's demo adapts it, with its own initialisation (a score prior of 0.01)
        and a score threshold of 0: its post-processing sees as many candidates as its config
        lets through (nms_pre)."""
        import numpy
        import torch
        from mmdet.apis import init_detector
        from mmpose.utils import adapt_mmdet_pipeline

        random.seed(0)
        numpy.random.seed(0)
        torch.manual_seed(0)
        detector = init_detector(str(self.backend.config_root().parent / config), None, palette="random", device=device)
        detector.cfg = adapt_mmdet_pipeline(detector.cfg)
        with quiet_logger():
            detector.init_weights()
        detector.bbox_head.test_cfg["score_thr"] = 0.0
        return detector.to(device).eval()

    @staticmethod
    def force_instances(model, people: int) -> Optional[str]:
        """Make the decoding keep exactly `people` people; else the reason it cannot."""
        head = type(model.head).__name__
        if head in ("RTMOHead", "YOLOXPoseHead"):
            # every anchor passes the score threshold; the top N go into NMS and all come out
            model.test_cfg.update(score_thr=0.0, nms_pre=people, nms_thr=NEAR_ONE)
        elif head == "DEKRHead":
            model.head.decoder.decode_max_instances = people
            model.head.decoder.decode_thr = -float("inf")
            model.test_cfg.update(max_num_people=people, nms_dist_thr=1e-6)
        elif head == "CIDHead":
            model.test_cfg.update(max_instances=people, score_threshold=-float("inf"))
        else:
            return "its decoding (%s) has no setting for the number of people it keeps" % head
        return None

    @staticmethod
    def scene_step(model, detector, frame, boxes: Optional[List[List[float]]], clock) -> Callable[[], Any]:
        """One frame: the detector's test step (mmdet.apis.inference_detector), then what
        mmpose.apis.inference_topdown does with N boxes (inference_bottomup with none), in stages."""
        import numpy as np
        from mmengine.dataset import Compose, pseudo_collate
        from mmengine.registry import init_default_scope

        init_default_scope("mmpose")
        pipeline = Compose(model.cfg.test_dataloader.dataset.pipeline)
        if detector is not None:
            from mmdet.apis import inference_detector

        def items():
            if boxes is None:
                return [dict(img=frame, **model.dataset_meta)]
            return [dict(img=frame, bbox=np.array([box], dtype=np.float32), bbox_score=np.ones(1, dtype=np.float32),
                         **model.dataset_meta) for box in boxes]

        def step():
            if detector is not None:
                with clock.stage(clock.DETECTOR):
                    inference_detector(detector, frame)
            with clock.stage(clock.PREPROCESSING):
                data = model.data_preprocessor(pseudo_collate([pipeline(item) for item in items()]), False)
            with clock.stage(clock.PREDICT):
                return model(**data, mode="predict")

        return step

    @staticmethod
    def decoded_instances(results) -> int:
        return sum(len(sample.pred_instances) for sample in results)


class quiet_logger:
    """mmengine's logger at WARNING for a while: init_weights logs every parameter's initialiser."""

    def __enter__(self):
        from mmengine.logging import MMLogger

        self.logger = MMLogger.get_current_instance()
        self.level = self.logger.level
        self.logger.setLevel(logging.WARNING)

    def __exit__(self, *exc):
        self.logger.setLevel(self.level)


def scenes_of(backend: MMPose1) -> MMPose1Scenes:
    return MMPose1Scenes(backend)
