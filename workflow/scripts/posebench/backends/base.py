"""What posebench asks of an MMPose version: load a config, build its model, count its forward."""
from __future__ import annotations

import platform
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional


class Backend:
    """One MMPose major version. Subclasses implement every method that raises here."""

    name = ""

    def config_root(self) -> Path:
        """The packaged configs/ tree (mmpose/.mim/configs) of the installed MMPose."""
        import mmpose  # noqa: F401  (the adapters are the only importers of mmpose)

        return Path(mmpose.__file__).parent / ".mim" / "configs"

    def versions(self) -> Dict[str, str]:
        import mmcv
        import mmpose
        import torch

        return {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "mmcv": mmcv.__version__,
            "mmpose": mmpose.__version__,
        }

    def load_config(self, config_file: Path) -> Dict[str, Any]:
        """The merged config (inheritance resolved) as plain JSON-able data.

        Returns {"model": {...}, "input_size": [height, width] or None,
                 "flip_indices": [the keypoint each keypoint becomes when flipped] or None}.
        """
        raise NotImplementedError

    def build_model(self, model_cfg: Dict[str, Any]):
        """A model with random weights in eval mode, on the CPU."""
        raise NotImplementedError

    def single_image_test_step(self, model_cfg: Dict[str, Any]) -> bool:
        """Whether the model's test step takes one image at a time (the bottom-up models)."""
        return model_cfg.get("type") in self.single_image_model_types

    single_image_model_types = ()

    def use_counting_forward(self, model) -> None:
        """Make model(tensor) the pass the seed counted: network only, no flip test, no decoding."""
        raise NotImplementedError

    def test_step(self, model, resolved: Dict[str, Any], batch_size: int, device: str) -> Callable[[], Any]:
        """The model's test-time step on ready inputs already on `device`: forward, the flip pass
        when the config's test settings ask for it, outputs to the host, keypoint decoding."""
        raise NotImplementedError


def without_checkpoints(value: Any) -> Any:
    """A copy of a config with every pretrained checkpoint switched off, so nothing downloads."""
    if isinstance(value, dict):
        cleaned = {}
        for key, item in value.items():
            if key == "pretrained":
                cleaned[key] = None
            elif key == "init_cfg" and _loads_checkpoint(item):
                cleaned[key] = None
            else:
                cleaned[key] = without_checkpoints(item)
        return cleaned
    if isinstance(value, (list, tuple)):
        return [without_checkpoints(item) for item in value]
    return value


def _loads_checkpoint(init_cfg: Any) -> bool:
    items = init_cfg if isinstance(init_cfg, list) else [init_cfg]
    return any(isinstance(item, dict) and "checkpoint" in item for item in items)


def input_size_hw(size: Optional[Any]) -> Optional[List[int]]:
    """OpenMMLab writes sizes as (width, height) or one int; we keep [height, width]."""
    if size is None:
        return None
    if isinstance(size, int):
        return [size, size]
    width, height = size
    return [int(height), int(width)]


def flip_pairs(flip_indices: List[int]) -> List[List[int]]:
    """[0, 2, 1] -> [[1, 2]]: MMPose 0.x names the same thing as pairs."""
    return [[index, flipped] for index, flipped in enumerate(flip_indices) if index < flipped]
