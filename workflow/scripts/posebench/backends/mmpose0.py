"""MMPose 0.x (mmcv 1.x Config, build_posenet): the seed's own code path."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from .base import Backend, flip_pairs, input_size_hw, without_checkpoints


class MMPose0(Backend):
    name = "mmpose0"
    head_attribute = "keypoint_head"
    single_image_model_types = ("AssociativeEmbedding",)

    def load_config(self, config_file: Path) -> Dict[str, Any]:
        from mmcv import Config

        cfg = Config.fromfile(str(config_file))
        model = without_checkpoints(cfg.model.to_dict())
        data_cfg = cfg.get("data_cfg") or {}
        return {
            "model": model,
            "input_size": input_size_hw(data_cfg.get("image_size")),
            "flip_indices": self._flip_indices(cfg),
        }

    @staticmethod
    def _flip_indices(cfg) -> Optional[List[int]]:
        from mmpose.datasets import DatasetInfo

        dataset_info = cfg.get("dataset_info") or cfg.data.test.get("dataset_info")
        return [int(index) for index in DatasetInfo(dataset_info).flip_index] if dataset_info else None

    def import_libraries(self) -> None:
        super().import_libraries()
        import mmpose.models  # noqa: F401

    def build_model(self, model_cfg: Dict[str, Any]):
        from mmpose.models import build_posenet

        return build_posenet(model_cfg).eval()

    def use_counting_forward(self, model) -> None:
        # as MMPose 0.x's own .dev_scripts/benchmark/flops_test.py does
        model.forward = model.forward_dummy

    def test_step(self, model, resolved: Dict[str, Any], batch_size: int, device: str) -> Callable[[], Any]:
        import numpy as np
        import torch

        height, width = resolved["input_size"]
        img = torch.randn(batch_size, 3, height, width, device=device)
        # what the 0.x test pipelines attach to a whole-image crop of the input size
        center = np.array([width / 2, height / 2], dtype=np.float32)
        scale = np.array([width / 200, height / 200], dtype=np.float32)
        if resolved["single_image_test_step"]:
            metas = [dict(image_file="", aug_data=[img], test_scale_factor=[1], base_size=(width, height),
                          center=center, scale=scale, flip_index=resolved["flip_indices"])]
        else:
            pairs = flip_pairs(resolved["flip_indices"])
            metas = [dict(image_file="", center=center, scale=scale, rotation=0, bbox_score=1.0,
                          flip_pairs=pairs, bbox_id=index) for index in range(batch_size)]
        return lambda: model(img=img, img_metas=metas, return_loss=False)


BACKEND = MMPose0()
