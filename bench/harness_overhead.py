"""How much does posebench's measurement harness cost? For three models of different size, time
the same test-time step with posebench's loop and with a bare loop in the same process, and print
harness FPS / bare FPS (it should read at least 0.98).

Run with a backend's interpreter, from the repository root:
    .venvs/mmpose1/bin/python bench/harness_overhead.py
"""
import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow" / "scripts"))

from posebench.catalog.models import load_yaml  # noqa: E402
from posebench.catalog.resolve import resolve_model  # noqa: E402
from posebench.measure.timing import run_iterations  # noqa: E402

MODELS = ["mobilenetv2_coco_256x192", "res50_coco_256x192", "hrnet_w48_coco_384x288"]


def bare_fps(step, iterations: int) -> float:
    fps = []
    for _ in range(iterations):
        start = time.perf_counter()
        step()
        fps.append(1.0 / (time.perf_counter() - start))
    return statistics.fmean(fps)


def main() -> None:
    import torch

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=MODELS)
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3, help="alternating harness and bare blocks")
    args = parser.parse_args()
    # the backend environments have no jsonschema: the model list is read as it stands
    entries = {entry["id"]: entry for entry in load_yaml(Path("config/models.yaml"))["models"]}
    policy = {"iterations": args.iterations, "warmup": 0, "min_iterations": args.iterations,
              "budget_s": 1e9, "long_iteration_s": 1e9}
    from posebench.backends import get_backend

    for model_id in args.models:
        resolved = resolve_model(entries[model_id], Path.cwd())
        backend = get_backend(resolved["backend"])
        model = backend.build_model(resolved["model_cfg"])
        step = backend.test_step(model, resolved, 1, "cpu")
        harness, bare = [], []
        with torch.no_grad():
            for _ in range(5):
                step()
            for _ in range(args.rounds):
                harness.append(run_iterations(step, lambda: None, policy, lambda line: None)["fps_mean"])
                bare.append(bare_fps(step, args.iterations))
        ratio = statistics.fmean(harness) / statistics.fmean(bare)
        print("%-28s harness %7.2f FPS  bare %7.2f FPS  ratio %.3f"
              % (model_id, statistics.fmean(harness), statistics.fmean(bare), ratio), flush=True)


if __name__ == "__main__":
    main()
