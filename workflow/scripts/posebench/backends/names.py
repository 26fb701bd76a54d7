"""How each backend names its configs: plain Python, for the driver (which checks the model list
without any backend installed), the resolve step and the table's links. Apart from the adapters,
so that a change here re-runs no measurement."""
from __future__ import annotations

import re
from pathlib import Path

# where each backend's packaged configs lie: its package, and the folder inside it
CONFIG_TREES = {
    "mmpose1": ("mmpose", ".mim/configs"),
    "mmpose0": ("mmpose", ".mim/configs"),
    "ultralytics": ("ultralytics", "cfg/models"),
}
# Ultralytics names a scale in the file name: yolo11n-pose.yaml is yolo11-pose.yaml at scale n
# (the pattern of its own ultralytics.nn.tasks.yaml_model_load)
SCALED_NAME = re.compile(r"(\d+)([nslmx])(.+)?$")
# where a packaged config of a backend can be read online, for the table's config links (MMPose's
# are relative, as the seed's: configs/...)
CONFIG_LINKS = {"ultralytics": "https://github.com/ultralytics/ultralytics/blob/main/ultralytics/cfg/models/"}


def config_on_disk(backend: str, path: Path) -> Path:
    """The file a config path names: itself, or for Ultralytics the unscaled yaml it loads."""
    if backend != "ultralytics" or path.is_file():
        return path
    return unscaled(path)


def unscaled(path: Path) -> Path:
    """yolo11n-pose.yaml -> yolo11-pose.yaml: the file Ultralytics reads for a scaled name."""
    return path.with_name(SCALED_NAME.sub(r"\1\3", path.stem) + path.suffix)


def config_link(backend: str, config: str) -> str:
    """Where the table's config link points: the user's own file as named, MMPose's configs/
    (relative, as the seed's links), or the backend's packaged file online."""
    if config.startswith(("./", "/")):
        return config
    if backend in CONFIG_LINKS:
        return CONFIG_LINKS[backend] + unscaled(Path(config)).as_posix()
    return "configs/" + config
