"""Step 2: params and FLOPs of one resolved model, counted as the seed counted them.

The seed's counter is mmcv's `get_model_complexity_info` on one forward pass of the network
(no flip test, no decoding); its "FLOPs" are multiply-accumulates, MMPose's convention. thop's
count goes beside it: both counters match layer types exactly, so each leaves some module types
at zero, and we list those so a user sees why two tools disagree.
"""
from __future__ import annotations

from collections import Counter
from typing import Dict, Iterable, List, Tuple

from .backends import get_backend
from .failures import ModelFailure, model_stage

FLOPS_CONVENTION = "multiply-accumulates (MACs), reported as FLOPs as MMPose does"


def executed_leaf_modules(model, input_chw: Tuple[int, int, int]) -> List[object]:
    """The leaf modules one counted forward pass runs (a loss module, say, never runs)."""
    import torch

    executed = {}

    def remember(module, inputs, output) -> None:
        executed[id(module)] = module

    leaves = [module for module in model.modules() if next(module.children(), None) is None]
    hooks = [leaf.register_forward_hook(remember) for leaf in leaves]
    try:
        with torch.no_grad():
            model(torch.randn(1, *input_chw))
    finally:
        for hook in hooks:
            hook.remove()
    return list(executed.values())


def uncounted_module_types(executed: List[object], counted_types: Iterable[type]) -> Dict[str, int]:
    """Types of executed leaf modules the counter has no rule for (it counts them as zero)."""
    counted = set(counted_types)
    return dict(sorted(Counter(type(m).__name__ for m in executed if type(m) not in counted).items()))


def count_with_mmcv(model, input_chw: Tuple[int, int, int], executed: List[object]) -> Dict[str, object]:
    import mmcv
    from mmcv.cnn import get_model_complexity_info
    from mmcv.cnn.utils.flops_counter import get_modules_mapping

    flops, params = get_model_complexity_info(model, input_chw, print_per_layer_stat=False, as_strings=False)
    return {
        "counter": "mmcv %s get_model_complexity_info" % mmcv.__version__,
        "flops": int(flops),
        "gflops": flops / 1e9,
        "params": int(params),
        "params_m": params / 1e6,
        "uncounted_module_types": uncounted_module_types(executed, get_modules_mapping()),
    }


def count_with_thop(model, input_chw: Tuple[int, int, int], executed: List[object]) -> Dict[str, object]:
    import thop
    import torch
    from thop.profile import register_hooks

    uncounted = uncounted_module_types(executed, register_hooks)
    try:
        with torch.no_grad():
            macs, params = thop.profile(model, inputs=(torch.randn(1, *input_chw),), verbose=False)
    except Exception as error:  # a counter that cannot run a model is a finding, not a crash
        return {"counter": "thop", "error": "%s: %s" % (type(error).__name__, error)}
    return {
        "counter": "thop %s" % getattr(thop, "__version__", ""),
        "flops": int(macs),
        "gflops": macs / 1e9,
        "params": int(params),
        "params_m": params / 1e6,
        "uncounted_module_types": uncounted,
    }


def count_complexity(resolved: Dict[str, object]) -> Dict[str, object]:
    record = {"id": resolved["id"], "config_hash": resolved["config_hash"], "flops_convention": FLOPS_CONVENTION}
    backend = get_backend(resolved["backend"])
    height, width = resolved["input_size"]
    input_chw = (3, height, width)
    try:
        with model_stage("build"):
            model = backend.build_model(resolved["model_cfg"])
            backend.use_counting_forward(model)
        with model_stage("count"):
            executed = executed_leaf_modules(model, input_chw)
            seed_counter = count_with_mmcv(model, input_chw, executed)
    except ModelFailure as failure:
        return dict(record, status="failed", failure=failure.record)
    return dict(
        record,
        status="counted",
        input_shape=[1, 3, height, width],
        params=seed_counter["params"],
        params_m=seed_counter["params_m"],
        gflops=seed_counter["gflops"],
        mmcv=seed_counter,
        thop=count_with_thop(model, input_chw, executed),
    )
