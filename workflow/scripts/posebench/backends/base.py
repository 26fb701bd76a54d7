"""What posebench asks of an MMPose version: load a config, build its model, count its forward."""
from __future__ import annotations

import platform
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional


# IoU above which NMS drops the lower-scored of two boxes: near one, so that the N candidates a
# scene keeps all come out of a non-maximum suppression that still runs over them
NEAR_ONE = 0.999


class ConfigError(ValueError):
    """A config the backend cannot build as it is named; its message is the line the user sees."""


class Backend:
    """One MMPose major version. Subclasses implement every method that raises here."""

    name = ""
    # whether mmcv (the seed's counter) is installed beside it: else PyTorch's counter comes first
    counts_with_mmcv = True

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

    def import_libraries(self) -> None:
        """Import what building and running a model imports, without running any torch
        operation (a warm process forks children after this)."""
        self.versions()

    def load_config(self, config_file: Path) -> Dict[str, Any]:
        """The merged config (inheritance resolved) as plain JSON-able data.

        Returns {"model": {...}, "input_size": [height, width] or None,
                 "flip_indices": [the keypoint each keypoint becomes when flipped] or None}.
        """
        raise NotImplementedError

    def build_model(self, model_cfg: Dict[str, Any]):
        """A model with random weights in eval mode, on the CPU."""
        raise NotImplementedError

    def build_seeded(self, model_cfg: Dict[str, Any]):
        """The model with the same random weights in every job: the exported network and the
        one timed beside it must be the same function, and a head whose work follows what it
        detects must count the same FLOPs in every process."""
        import random

        import numpy
        import torch

        random.seed(0)
        numpy.random.seed(0)
        torch.manual_seed(0)
        return self.build_model(model_cfg)

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

    head_attribute = ""

    def network(self, model):
        """The network alone as one module: an input batch in, the head's raw outputs out. This
        is what a runtime (ONNX Runtime, torch.compile) runs in place of eager PyTorch."""
        stages = [model.backbone] + ([model.neck] if _has_neck(model) else []) + [getattr(model, self.head_attribute)]
        return _network_module(stages)

    def route_network(self, model, run: Callable[[Any], Any]) -> None:
        """Make the model's test step compute its network with `run` (input batch -> the head's
        outputs); flip test, decoding and everything else in the step stay as they are."""
        model.backbone = _runner_module(run)
        if _has_neck(model):
            model.neck.forward = _pass_through
        getattr(model, self.head_attribute).forward = _outputs_of


class Computed:
    """The network's outputs, computed in a runtime, carried where the backbone's features go."""

    def __init__(self, outputs: Any):
        self.outputs = outputs


def _has_neck(model) -> bool:
    return getattr(model, "neck", None) is not None


def _pass_through(features: Any) -> Any:
    return features


def _outputs_of(features: Computed) -> Any:
    return features.outputs


def _network_module(stages: List[Any]):
    import torch

    class Network(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.stages = torch.nn.ModuleList(stages)

        def forward(self, inputs):
            outputs = inputs
            for stage in self.stages:
                # the class's forward: route_network replaces the instance's with a pass-through
                outputs = type(stage).forward(stage, outputs)
            return outputs

    return Network().eval()


def _runner_module(run: Callable[[Any], Any]):
    import torch

    class Runner(torch.nn.Module):
        def forward(self, inputs):
            return Computed(run(inputs))

    return Runner()


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
