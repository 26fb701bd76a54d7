"""The runtimes a model can be timed in, by name: what the pipeline's config, the timing step
and the runtimes table share (no code that runs them); and the memory allocators a round runs with."""
EAGER = "eager"
ONNXRUNTIME = "onnxruntime"
# the runtimes that read the network exported to ONNX (export_onnx); openvino_int8 reads its
# quantized model (quantize_int8)
FROM_ONNX = (ONNXRUNTIME, "openvino", "opencv_dnn")
RUNTIMES = (EAGER, "channels_last", "compile") + FROM_ONNX + ("openvino_int8",)
# what a runtime's column says where its outputs are not checked against eager's
SPEED_ONLY = {"openvino_int8": "INT8, speed only: accuracy not measured (random weights, no data set)"}
# timing.allocator: what a round's process does with the memory its model frees
# (posebench/timing.py); rounds recorded before the setting ran with the system's
CACHING_ALLOCATOR, SYSTEM_ALLOCATOR = "caching", "system"
ALLOCATORS = (CACHING_ALLOCATOR, SYSTEM_ALLOCATOR)


def allocator_of(settings: dict) -> str:
    """The allocator a round's policy asks for, or a round's record ran with."""
    return settings.get("allocator", SYSTEM_ALLOCATOR)
