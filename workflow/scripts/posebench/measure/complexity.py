"""Step 2: params and FLOPs of one resolved model, counted as the seed counted them.

The seed's counter is mmcv's `get_model_complexity_info` on one forward pass of the network
(no flip test, no decoding); its "FLOPs" are multiply-accumulates, MMPose's convention. thop's
count goes beside it: both counters match layer types exactly, so each leaves some module types
at zero, and we list those so a user sees why two tools disagree.

Module counters cannot see matrix products or attention (`torch.matmul`, `F.scaled_dot_product_attention`
are not modules), which modern heads are made of. Two operator-level counters go beside them:
PyTorch's own `FlopCounterMode` (with the formula it lacks for the CPU attention kernel) and
mmengine's `FlopAnalyzer` (what MMPose 1.x's `get_flops.py` runs). All counts are MACs.
"""
from __future__ import annotations

from collections import Counter
from typing import Dict, Iterable, List, Tuple

from posebench.backends import get_backend
from posebench.failures import ModelFailure, model_stage

# aten operators that multiply and accumulate: one of these without a formula is a count missed
CONTRACTIONS = ("mm", "matmul", "bmm", "baddbmm", "addmm", "linear", "conv", "einsum", "attention", "dot")

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


def attention_macs(query_shape, key_shape, value_shape, *args, **kwargs) -> int:
    """Both products of attention: (L x E) by (E x S), then (L x S) by (S x Ev), per batch and head."""
    *batch, length, embed = query_shape
    source, value_embed = key_shape[-2], value_shape[-1]
    heads = 1
    for size in batch:
        heads *= size
    return heads * length * source * (embed + value_embed)


def cpu_attention_formulas() -> Dict[object, object]:
    """FLOP formulas (2 per MAC) for the attention kernels FlopCounterMode has none for: on the CPU,
    F.scaled_dot_product_attention runs `_scaled_dot_product_flash_attention_for_cpu`."""
    import torch
    from torch.utils.flop_counter import flop_registry

    kernels = [getattr(torch.ops.aten, name, None) for name in ("_scaled_dot_product_flash_attention_for_cpu",)]
    return {kernel: (lambda *shapes, **kw: 2 * attention_macs(*shapes, **kw))
            for kernel in kernels if kernel is not None and kernel not in flop_registry}


def counted_record(counter: str, macs: float, model) -> Dict[str, object]:
    """An operator-level counter's figures; params are the model's own parameters."""
    params = sum(parameter.numel() for parameter in model.parameters())
    return {"counter": counter, "flops": int(macs), "gflops": macs / 1e9, "params": params, "params_m": params / 1e6}


def operator_recorder():
    """A dispatch mode that counts each aten operator a forward pass runs (`.seen`)."""
    from torch.utils._python_dispatch import TorchDispatchMode

    class Recorder(TorchDispatchMode):
        def __init__(self):
            super().__init__()
            self.seen: Counter = Counter()

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            self.seen[str(func.overloadpacket)] += 1
            return func(*args, **(kwargs or {}))

    return Recorder()


def count_with_torch(model, input_chw: Tuple[int, int, int]) -> Dict[str, object]:
    """PyTorch's operator-level count (torch.utils.flop_counter), in MACs; the contractions it
    ran without a formula are listed as uncounted."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode, flop_registry

    formulas = cpu_attention_formulas()
    counter = FlopCounterMode(display=False, custom_mapping=formulas)
    recorder = operator_recorder()
    try:
        with torch.no_grad(), counter, recorder:  # one pass: both modes see every operator
            model(torch.randn(1, *input_chw))
    except Exception as error:  # a counter that cannot run a model is a finding, not a crash
        return {"counter": "torch FlopCounterMode", "error": "%s: %s" % (type(error).__name__, error)}
    known = {str(op) for op in list(flop_registry) + list(formulas)}
    macs = counter.get_total_flops() / 2
    return dict(
        counted_record("torch %s FlopCounterMode" % torch.__version__, macs, model),
        macs_by_operator={str(op): count / 2 for op, count in counter.get_flop_counts()["Global"].items()},
        uncounted_operators={op: count for op, count in sorted(recorder.seen.items())
                             if op not in known and any(word in op.split(".")[-1] for word in CONTRACTIONS)},
    )


def count_with_mmengine(model, input_chw: Tuple[int, int, int]) -> Dict[str, object]:
    """mmengine's operator-level count (a traced graph), as MMPose 1.x's get_flops.py reports it."""
    import torch

    try:
        import mmengine
        from mmengine.analysis import FlopAnalyzer

        analyzer = FlopAnalyzer(model, (torch.randn(1, *input_chw),))
        analyzer.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
        with torch.no_grad():
            macs = analyzer.total()
        unsupported = dict(sorted(analyzer.unsupported_ops().items()))
    except Exception as error:  # mmengine absent (MMPose 0.x) or a graph it cannot trace: a finding
        return {"counter": "mmengine FlopAnalyzer", "error": "%s: %s" % (type(error).__name__, error)}
    return dict(counted_record("mmengine %s FlopAnalyzer" % mmengine.__version__, macs, model),
                uncounted_operators=unsupported)


def count_complexity(resolved: Dict[str, object]) -> Dict[str, object]:
    record = {"id": resolved["id"], "config_hash": resolved["config_hash"], "flops_convention": FLOPS_CONVENTION}
    backend = get_backend(resolved["backend"])
    height, width = resolved["input_size"]
    input_chw = (3, height, width)
    try:
        with model_stage("build"):
            # seeded: a head whose work follows what it detects (CID's instances) counts the same
            # in every process
            model = backend.build_seeded(resolved["model_cfg"])
            backend.use_counting_forward(model)
        with model_stage("count"):
            executed = executed_leaf_modules(model, input_chw)
            counts = {"torch": count_with_torch(model, input_chw)}
            # the seed's counter where it is installed, else PyTorch's (Ultralytics' environment)
            if backend.counts_with_mmcv:
                counts["mmcv"] = first = count_with_mmcv(model, input_chw, executed)
            else:
                counts["mmcv"] = {"counter": "mmcv", "error": "not installed with backend %s" % backend.name}
                first = counts["torch"]
            if "error" in first:
                raise ModelFailure("count", RuntimeError(first["error"]))
    except ModelFailure as failure:
        return dict(record, status="failed", failure=failure.record)
    return dict(
        record,
        status="counted",
        input_shape=[1, 3, height, width],
        params=first["params"],
        params_m=first["params_m"],
        gflops=first["gflops"],
        params_counter=first["counter"],
        mmcv=counts["mmcv"],
        thop=count_with_thop(model, input_chw, executed),
        torch=counts["torch"],
        mmengine=count_with_mmengine(model, input_chw),
    )
