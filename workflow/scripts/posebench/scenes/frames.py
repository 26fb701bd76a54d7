"""Scenes: frames per second for a whole frame with N people in it.

A top-down pipeline pays a person detector on the frame, then its pose model on N boxes (MMPose's
own top-down path: the test pipeline's affine crop and normalisation per box, one batch of N, flip
test and decoding). A one-stage or bottom-up model runs once on the frame, its decoding forced to
keep N people (random weights decode nobody otherwise). One round of one scene is one process,
as a model's timing round is, and its record has the same shape: `batches` holds one measurement
per number of people, so the rounds, intervals and marks are the table's own.
"""
from __future__ import annotations

import contextlib
import datetime
import importlib
import math
import socket
import time
from typing import Any, Callable, Dict, Iterator, List, Optional

from posebench.backends import get_backend
from posebench.failures import ModelFailure, model_stage
from posebench.measure.environment import describe_environment
from posebench.measure.memory import allocator_of, peak_mib, reset_peak
from posebench.measure.probe import RoundTrip, placement_reader, probe_kernel, probe_state
from posebench.measure.timing import device_synchronizer, prepare_device, run_iterations
from posebench.scenes.plan import DECODING, DETECTOR, MMPOSE_STACK, NETWORK, PREPROCESSING, SCENE_RUNTIME

FRAME_SEED = 0
TIMED_REGION = (
    "one frame, already in memory: the detector's test step (its pre-processing, network and "
    "post-processing), then the pose model's test pipeline per box, its network (with the flip "
    "pass where the config asks for it) and decoding; for a one-stage or bottom-up model its test "
    "pipeline, network and decoding of N people; on rtmlib, its RTMDet on the frame, then its RTMPose "
    "on each box in turn (crop, network, decoding)"
)


def person_boxes(people: int, frame_size: List[int]) -> List[List[float]]:
    """N person boxes (x1, y1, x2, y2) laid out on a grid over the frame, one per cell."""
    height, width = frame_size
    rows = int(math.ceil(math.sqrt(people)))
    columns = int(math.ceil(people / rows))
    cell_w, cell_h = width / columns, height / rows
    boxes = []
    for index in range(people):
        row, column = divmod(index, columns)
        x, y = column * cell_w, row * cell_h
        boxes.append([x + 0.05 * cell_w, y + 0.05 * cell_h, x + 0.95 * cell_w, y + 0.95 * cell_h])
    return boxes


def random_frame(frame_size: List[int]):
    """A frame as a decoded image would be: uint8, height × width × 3 (BGR), the same in every round."""
    import numpy

    height, width = frame_size
    return numpy.random.default_rng(FRAME_SEED).integers(0, 256, size=(height, width, 3), dtype=numpy.uint8)


class StageClock:
    """Seconds spent per stage of a frame, summed over the calls since the last reset; each stage
    waits for the device before and after, so a stage's time is its own."""

    DETECTOR, PREPROCESSING, NETWORK = DETECTOR, PREPROCESSING, NETWORK
    # the pose model's test step after pre-processing: its network, then everything else (decoding)
    PREDICT = "predict"

    def __init__(self, synchronize: Callable[[], None]):
        self.synchronize = synchronize
        self.seconds: Dict[str, float] = {}
        # the largest batch the pose network's first module got: N crops, or one frame; and the
        # height and width it ran at (a letterbox may resize the frame to other than the config's)
        self.network_batch = 0
        self.network_input: List[int] = []

    def reset(self) -> None:
        self.seconds, self.network_batch, self.network_input = {}, 0, []

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        self.synchronize()
        start = time.perf_counter()
        try:
            yield
        finally:
            self.synchronize()
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start

    def wrap(self, owner: Any, attribute: str, name: str, counts_batch: bool = False) -> None:
        """Time every call of owner.attribute as stage `name` (an instance attribute shadows the
        class's method, for the module's own calls too); with counts_batch, keep the batch of its
        first argument, and its height and width."""
        original = getattr(owner, attribute)

        def timed(*args, **kwargs):
            if counts_batch and args and hasattr(args[0], "shape"):
                self.saw_network_input(int(args[0].shape[0]), [int(side) for side in args[0].shape[2:]])
            with self.stage(name):
                return original(*args, **kwargs)

        setattr(owner, attribute, timed)

    def saw_network_input(self, batch: int, height_width: List[int]) -> None:
        """The pose network got a batch of `batch` at this height and width."""
        self.network_batch = max(self.network_batch, batch)
        self.network_input = list(height_width)

    def per_frame(self) -> Dict[str, float]:
        """Seconds in each stage since the reset (one frame: a stage may run once per box);
        decoding is the pose model's step less its network."""
        per_frame = {stage: self.seconds.get(stage, 0.0) for stage in (DETECTOR, PREPROCESSING, NETWORK)}
        per_frame[DECODING] = max(0.0, self.seconds.get(self.PREDICT, 0.0) - per_frame[NETWORK])
        return per_frame


def measure_frames(step: Callable[[], Any], clock: StageClock, device: str, policy: Dict[str, float],
                   progress: Callable[[str], None], probe: Callable[[], float],
                   round_trip: Optional[RoundTrip] = None) -> Dict[str, Any]:
    """The round's measurement of one number of people, as a timing round's batch is measured:
    warm-ups, the probe just before and after the timed iterations (with the CPUs' placement where
    `round_trip` reads it), the memory's peak over them.
    Each frame's stages are kept per call, and the timed calls are the last ones: a long first
    iteration is timed before the warm-ups end, so no reset between the two would do."""
    before, memory, frames = {}, {}, []

    def warmed_up():
        before.update(probe_state(probe, round_trip))
        memory["reset"] = reset_peak(device)

    def staged_step():
        clock.reset()
        result = step()
        frames.append((clock.per_frame(), clock.network_batch, clock.network_input))
        return result

    measured = run_iterations(staged_step, clock.synchronize, policy, progress, warmed_up=warmed_up)
    measured["peak_memory_mib"] = peak_mib(device, memory.get("reset", False))
    after = probe_state(probe, round_trip)
    measured.update(probe_before=before, probe_after=after,
                    probe_seconds=before.get("probe_seconds", 0.0) + after.get("probe_seconds", 0.0))
    stages, batches, inputs = zip(*frames[len(frames) - measured["iterations"]:])
    measured["network_batch"] = max(batches)
    measured["network_input"] = inputs[-1]
    measured["stage_seconds"] = {stage: sum(frame[stage] for frame in stages) / len(stages) for stage in stages[0]}
    return measured


def time_people(scenes, model, detector, frame, frame_size, people, device, policy, progress, probe, clock,
                round_trip=None) -> Dict[str, Any]:
    """One number of people: the frame's step built, its decoded people counted, then timed."""
    import torch

    progress("N = %d people on %s" % (people, device))
    try:
        with model_stage("scene with %d people" % people), torch.no_grad():
            if detector is None:
                reason = scenes.force_instances(model, people)
                if reason:
                    return {"status": "not applicable", "reason": reason}
            boxes = person_boxes(people, frame_size) if detector is not None else None
            step = scenes.scene_step(model, detector, frame, boxes, clock)
            decoded = scenes.decoded_instances(step())
            measured = measure_frames(step, clock, device, policy, progress, probe, round_trip)
    except ModelFailure as failure:
        progress("failed: %s" % failure)
        return failure.record
    progress("N = %d: %.2f ± %.2f FPS, %d people decoded" % (people, measured["fps_mean"], measured["fps_std"], decoded))
    return dict(measured, instances=decoded, status="measured")


def scene_backend(name: str, stack: Optional[Dict[str, str]] = None, threads: int = 1):
    """The backend, and its scenes adapter (backends/{name}_scenes.py), or for an rtmlib stack
    posebench/scenes/rtmlib_stack.py on the exports; loaded by name: the model rounds do not run it."""
    backend = get_backend(name)
    if stack and stack["name"] != MMPOSE_STACK:
        module = importlib.import_module("posebench.scenes.rtmlib_stack")
        return backend, module.scenes_of(stack["name"], stack["pose_export"], stack["detector_export"], threads)
    module = importlib.import_module("posebench.backends.%s_scenes" % name)
    return backend, module.scenes_of(backend)


def time_scene(
    scene: str,
    resolved: Dict[str, Any],
    detector: Optional[Dict[str, str]],
    device: str,
    people: List[int],
    frame_size: List[int],
    policy: Dict[str, float],
    threads: int,
    progress: Callable[[str], None] = print,
    round_number: int = 1,
    stack: Optional[Dict[str, str]] = None,
) -> Dict[str, Any]:
    """One round of one scene: every number of people, in a record shaped as a timing round's.
    `stack`: what runs a top-down pipeline, {"name": mmpose or rtmlib-..., and for rtmlib
    "pose_export" and "detector_export", the folders of the exports it reads}."""
    started = now()
    allocator = prepare_device(device, threads, allocator_of(policy))
    backend, scenes = scene_backend(resolved["backend"], stack, threads)
    frame = random_frame(frame_size)
    clock = StageClock(device_synchronizer(device))
    try:
        with model_stage("build"):
            model = scenes.scene_model(resolved, device, clock)
            built_detector = scenes.scene_detector(detector["config"], device) if detector else None
        probe = probe_kernel(device)
        round_trip = placement_reader(policy)
        frames = {
            str(count): time_people(
                scenes, model, built_detector, frame, frame_size, count, device, policy, progress, probe, clock,
                round_trip,
            )
            for count in people
        }
    except ModelFailure as failure:
        progress("failed: %s" % failure)
        frames = {str(count): failure.record for count in people}
    return {
        "id": scene, "model": resolved["id"], "detector": detector, "config_hash": resolved["config_hash"],
        "stack": (stack or {}).get("name", MMPOSE_STACK),
        "device": device, "runtime": SCENE_RUNTIME, "round": round_number, "host": socket.gethostname(),
        "started_at": started, "ended_at": now(), "threads": threads, "allocator": allocator,
        "placement_read": bool(policy.get("read_placement")), "policy": dict(policy), "frame_size": list(frame_size), "timed_region": TIMED_REGION,
        # a measurement per number of people, under the key a timing round keeps its batch sizes
        "batches": frames,
        "environment": describe_environment(backend, device, threads),
        # what the stack adds of its own (rtmlib: its version, its sessions' threads)
        "stack_settings": scenes.describe() if hasattr(scenes, "describe") else {},
    }


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat()
