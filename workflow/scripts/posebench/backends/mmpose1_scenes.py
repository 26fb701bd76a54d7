"""Scenes on MMPose 1.x: whole frames through MMPose's own inference path, with mmdet 3.x's person
detectors. Loaded by name (posebench/scenes/frames.py) for the scene rounds only, so that the model
rounds do not run its code and a change to it does not re-time them."""
from __future__ import annotations

import logging
import random
from typing import Any, Callable, Dict, List, Optional

from .base import NEAR_ONE
from .mmpose1 import MMPose1

# the smallest width or height of a box in rtmlib's layout (pixels)
TINY = 1e-6


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

    def rtmlib_detector(self, config: str):
        """The detector's network (random weights, as scene_detector gives them) with its outputs
        in the layout rtmlib's RTMDet decodes when the export has no NMS inside (rtmlib
        tools/object_detection/rtmdet.py): per anchor, stride level by level and row by row,
        (x and y offsets from the grid cell, log width and log height, in strides; objectness;
        each class's score). RTMDet predicts distances from its anchor point (offset 0) to the four
        sides; they are re-expressed so that rtmlib's decoding gives back RTMDet's own boxes, and
        the objectness is 1, so a box's score is its class score. Returns (network, its input
        height and width: the test pipeline's Resize scale)."""
        detector = self.scene_detector(config, "cpu")
        width, height = detector.cfg.test_dataloader.dataset.pipeline[1]["scale"]
        return RtmlibLayout(detector), [int(height), int(width)]

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


def _rtmlib_layout_module():
    import torch

    class Layout(torch.nn.Module):
        def __init__(self, detector):
            super().__init__()
            self.detector = detector
            self.strides = [stride[0] for stride in detector.bbox_head.prior_generator.strides]

        def forward(self, inputs):
            cls_scores, distances = self.detector.bbox_head(self.detector.extract_feat(inputs))
            levels = []
            for scores, (left, top, right, bottom), stride in zip(cls_scores, (d.unbind(1) for d in distances),
                                                                 self.strides):
                # RTMDet's own box where its width and height are positive; random weights also
                # predict sides whose sum is not (a box turned inside out), which rtmlib's layout
                # cannot hold: those become boxes of (nearly) no width or height
                width, height = (left + right).clamp(min=TINY), (top + bottom).clamp(min=TINY)
                columns = [(right - left) / (2 * stride), (bottom - top) / (2 * stride),
                           torch.log(width / stride), torch.log(height / stride),
                           torch.ones_like(left)] + list(scores.sigmoid().unbind(1))
                levels.append(torch.stack(columns, -1).flatten(1, 2))
            return torch.cat(levels, 1)

    return Layout


def RtmlibLayout(detector):
    return _rtmlib_layout_module()(detector).eval()


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
