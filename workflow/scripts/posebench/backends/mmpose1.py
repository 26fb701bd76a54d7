"""MMPose 1.x (mmengine registries, data samples). Runs without torchvision: `mmpose.apis` and
`register_all_modules` need it, so the model registries are filled by importing the packages."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict

from .base import Backend, input_size_hw, without_checkpoints


class MMPose1(Backend):
    name = "mmpose1"
    single_image_model_types = ("BottomupPoseEstimator",)

    def versions(self) -> Dict[str, str]:
        import mmengine

        return dict(super().versions(), mmengine=mmengine.__version__)

    def load_config(self, config_file: Path) -> Dict[str, Any]:
        from mmengine.config import Config

        cfg = Config.fromfile(str(config_file))
        model = without_checkpoints(cfg.model.to_dict())
        codec = cfg.get("codec")
        size = codec.get("input_size") if isinstance(codec, dict) else None
        return {"model": model, "input_size": input_size_hw(size)}

    def build_model(self, model_cfg: Dict[str, Any]):
        import mmpose.codecs  # noqa: F401  (fills the registries)
        import mmpose.datasets  # noqa: F401
        import mmpose.models  # noqa: F401
        from mmengine.registry import DefaultScope
        from mmpose.registry import MODELS

        if not DefaultScope.check_instance_created("posebench"):
            DefaultScope.get_instance("posebench", scope_name="mmpose")
        model = MODELS.build(model_cfg)
        return model.eval()

    def use_counting_forward(self, model) -> None:
        model.forward = model._forward


BACKEND = MMPose1()
