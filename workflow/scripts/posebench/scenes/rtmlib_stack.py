"""Top-down scenes on rtmlib: how many people ship RTMPose without mmcv or mmpose. rtmlib's RTMDet
and RTMPose (numpy pre- and post-processing around a runtime, one crop per call) on posebench's own
ONNX exports, given as local paths: the pose model's (results/onnx/{id}, the network without its
normalisation, outputs in rtmlib's order: simcc_x, simcc_y) and the detector's in the layout
rtmlib's RTMDet decodes (results/detectors/{name}). Loaded by name (posebench/scenes/frames.py) for
the rtmlib scene rounds only; it has the interface of a backend's scenes adapter.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from posebench.failures import ModelFailure
from posebench.records import read_json
from posebench.runtimes.export import EXPORT_RECORD, ONNX_FILE
from posebench.runtimes.runners import onnxruntime_session, openvino_compiled
from posebench.scenes.plan import RTMLIB_STACKS

# the detector's score threshold: rtmlib's own default. Random weights score every anchor at the
# 0.01 prior, so none passes and rtmlib's NMS has nothing to do: a lower bound on its detector's
# post-processing. At 0 every anchor would pass into its numpy NMS (2,100 for RTMDet-nano at 320:
# about 0.25 s a frame here), where MMPose's detector takes its 1,000 best (nms_pre) into a C++ NMS.
SCORE_THRESHOLD = 0.3


class RtmlibScenes:
    """What posebench/scenes/frames.py asks of a backend's scenes adapter, for one rtmlib stack."""

    def __init__(self, stack: str, pose_export: Path, detector_export: Path, threads: int):
        self.runtime = RTMLIB_STACKS[stack]
        self.pose_export, self.detector_export, self.threads = Path(pose_export), Path(detector_export), threads
        self.tools: Dict[str, Any] = {}

    def describe(self) -> Dict[str, Any]:
        """rtmlib's version, and the threads each of its runtime's sessions really runs on."""
        from rtmlib.version import __version__

        return {"rtmlib": __version__, "runtime": self.runtime,
                "runtime_threads": {name: runtime_threads(tool) for name, tool in self.tools.items()}}

    def scene_model(self, resolved: Dict[str, Any], device: str, clock):
        """rtmlib's RTMPose on the model's export, at its input size, with rtmlib's own
        normalisation; its runtime's session on the round's threads."""
        from rtmlib import RTMPose

        height, width = resolved["input_size"]
        record = read_json(self.pose_export / EXPORT_RECORD)
        if record.get("status") != "exported":
            raise ModelFailure("rtmlib", RuntimeError("the pose model has no ONNX export (%s)" % record.get("message")))
        self.tools["pose"] = self._on_threads(RTMPose(str(self.pose_export / ONNX_FILE),
                                                      model_input_size=(width, height), backend=self.runtime,
                                                      device=device))
        return self.tools["pose"]

    def scene_detector(self, config: str, device: str):
        """rtmlib's RTMDet on the detector's export, at the size it was exported at."""
        from rtmlib import RTMDet

        height, width = read_json(self.detector_export / EXPORT_RECORD)["input_size"]
        detector = RTMDet(str(self.detector_export / ONNX_FILE), model_input_size=(height, width),
                          backend=self.runtime, device=device, score_thr=SCORE_THRESHOLD)
        self.tools["detector"] = self._on_threads(detector)
        return self.tools["detector"]

    def _on_threads(self, tool):
        """rtmlib's session made again with the round's thread count (rtmlib leaves the runtime's
        default: all cores for OpenVINO), the rest of rtmlib's settings kept."""
        if self.runtime == "onnxruntime":
            tool.session = onnxruntime_session(Path(tool.onnx_model), tool.device, self.threads)
        else:
            tool.compiled_model = openvino_compiled(Path(tool.onnx_model), self.threads, PERFORMANCE_HINT="LATENCY")
            tool._ov_outputs = list(tool.compiled_model.outputs)
        return tool

    @staticmethod
    def force_instances(model, people: int) -> Optional[str]:
        return "rtmlib's pose model is top-down: it runs on the N boxes it is given"

    @staticmethod
    def scene_step(pose, detector, frame, boxes: Optional[List[List[float]]], clock) -> Callable[[], Any]:
        """One frame as rtmlib runs it: RTMDet on the frame (its pre-processing, network and NMS),
        then RTMPose.__call__'s loop over the N boxes, each box's crop, network and decoding in
        turn (the stages summed over the boxes)."""
        height, width = pose.model_input_size[1], pose.model_input_size[0]

        def step():
            with clock.stage(clock.DETECTOR):
                detector(frame)
            people = []
            for box in boxes:
                with clock.stage(clock.PREPROCESSING):
                    crop, center, scale = pose.preprocess(frame, box)
                with clock.stage(clock.PREDICT):
                    with clock.stage(clock.NETWORK):
                        outputs = pose.inference(crop)
                    people.append(pose.postprocess(outputs, center, scale))
            clock.saw_network_input(1, [height, width])
            return people

        return step

    @staticmethod
    def decoded_instances(people) -> int:
        return len(people)


def runtime_threads(tool) -> int:
    """The intra-op threads of an rtmlib tool's ONNX Runtime session, or its OpenVINO model's."""
    if tool.backend == "onnxruntime":
        return int(tool.session.get_session_options().intra_op_num_threads)
    return int(tool.compiled_model.get_property("INFERENCE_NUM_THREADS"))


def scenes_of(stack: str, pose_export: Path, detector_export: Path, threads: int) -> RtmlibScenes:
    return RtmlibScenes(stack, pose_export, detector_export, threads)
