"""MMPose 0.x (mmcv 1.x Config, build_posenet): the seed's own code path."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict

from .base import Backend, input_size_hw, without_checkpoints


class MMPose0(Backend):
    name = "mmpose0"
    single_image_model_types = ("AssociativeEmbedding",)

    def load_config(self, config_file: Path) -> Dict[str, Any]:
        from mmcv import Config

        cfg = Config.fromfile(str(config_file))
        model = without_checkpoints(cfg.model.to_dict())
        data_cfg = cfg.get("data_cfg") or {}
        return {"model": model, "input_size": input_size_hw(data_cfg.get("image_size"))}

    def build_model(self, model_cfg: Dict[str, Any]):
        from mmpose.models import build_posenet

        return build_posenet(model_cfg).eval()

    def use_counting_forward(self, model) -> None:
        # as MMPose 0.x's own .dev_scripts/benchmark/flops_test.py does
        model.forward = model.forward_dummy


BACKEND = MMPose0()
