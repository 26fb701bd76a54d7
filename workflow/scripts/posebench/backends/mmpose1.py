"""MMPose 1.x (mmengine registries, data samples). Runs without torchvision: `mmpose.apis` and
`register_all_modules` need it, so the model registries are filled by importing the packages."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from .base import Backend, input_size_hw, without_checkpoints


class MMPose1(Backend):
    name = "mmpose1"
    head_attribute = "head"
    # the bottom-up estimator takes a batch: whether its head's decoding does too is measured
    # (timing.py marks the batch sizes whose test step fails where batch size 1 ran)
    single_image_model_types = ()

    def versions(self) -> Dict[str, str]:
        import mmengine

        return dict(super().versions(), mmengine=mmengine.__version__)

    def import_libraries(self) -> None:
        super().import_libraries()
        self._fill_registries()

    def load_config(self, config_file: Path) -> Dict[str, Any]:
        from mmengine.config import Config

        cfg = Config.fromfile(str(config_file))
        model = without_checkpoints(cfg.model.to_dict())
        return {"model": model, "input_size": input_size_hw(self._test_input_size(cfg)),
                "flip_indices": self._flip_indices(cfg)}

    @staticmethod
    def _test_input_size(cfg) -> Optional[List[int]]:
        """The size the test pipeline resizes to, else the codec's: a config may inherit its
        codec from a larger sibling and test at its own size (YOLOX-Pose-tiny: 640 and 416)."""
        dataset = (cfg.get("test_dataloader") or {}).get("dataset") or {}
        for transform in dataset.get("pipeline") or []:
            if isinstance(transform, dict) and transform.get("input_size"):
                return transform["input_size"]
        codec = cfg.get("codec")
        return codec.get("input_size") if isinstance(codec, dict) else None

    def _flip_indices(self, cfg) -> Optional[List[int]]:
        self._fill_registries()
        from mmpose.datasets.datasets.utils import parse_pose_metainfo
        from mmpose.registry import DATASETS

        dataset = (cfg.get("test_dataloader") or {}).get("dataset") or {}
        metainfo = dataset.get("metainfo")
        if metainfo is None and dataset.get("type"):
            metainfo = DATASETS.get(dataset["type"]).METAINFO
        if metainfo is None:
            return None
        return [int(index) for index in parse_pose_metainfo(dict(metainfo))["flip_indices"]]

    @staticmethod
    def _fill_registries() -> None:
        import mmpose.codecs  # noqa: F401
        import mmpose.datasets  # noqa: F401
        import mmpose.models  # noqa: F401
        from mmengine.registry import DefaultScope

        if not DefaultScope.check_instance_created("posebench"):
            DefaultScope.get_instance("posebench", scope_name="mmpose")

    def build_model(self, model_cfg: Dict[str, Any]):
        """The model with its own initialisation, as MMPose 0.x's constructors (and so the seed's
        speed test) gave it; 1.x leaves that to its runner. It matters for speed, not only for
        accuracy: a detection-style head (RTMO, YOLOX-Pose) starts its scores at a prior of 0.01,
        where PyTorch's default init puts them near 0.5 and every one of the 8400 anchors of a
        640×640 input passes the score threshold into decoding (seconds per image)."""
        import logging

        from mmengine.logging import MMLogger

        self._fill_registries()
        from mmpose.registry import MODELS

        model = MODELS.build(model_cfg)
        logger = MMLogger.get_current_instance()
        level = logger.level
        logger.setLevel(logging.WARNING)  # init_weights logs every parameter's initialiser
        try:
            model.init_weights()
        finally:
            logger.setLevel(level)
        return model.eval()

    def use_counting_forward(self, model) -> None:
        model.forward = model._forward

    def test_step(self, model, resolved: Dict[str, Any], batch_size: int, device: str) -> Callable[[], Any]:
        import torch

        height, width = resolved["input_size"]
        inputs = torch.randn(batch_size, 3, height, width, device=device)
        samples = [self._data_sample(height, width, resolved["flip_indices"]) for _ in range(batch_size)]
        return lambda: model(inputs, samples, mode="predict")

    @staticmethod
    def _data_sample(height: int, width: int, flip_indices: Optional[List[int]]):
        """What the test pipeline would attach to a whole-image crop of the input size."""
        import numpy as np
        from mmengine.structures import InstanceData
        from mmpose.structures import PoseDataSample

        sample = PoseDataSample(
            metainfo=dict(
                input_size=(width, height), input_center=np.array([width / 2, height / 2], dtype=np.float32),
                input_scale=np.array([width, height], dtype=np.float32), img_shape=(height, width),
                ori_shape=(height, width), flip_indices=flip_indices, id=0, img_id=0,
            )
        )
        sample.gt_instances = InstanceData(
            bboxes=np.array([[0, 0, width, height]], dtype=np.float32), bbox_scores=np.ones(1, dtype=np.float32)
        )
        return sample


BACKEND = MMPose1()
