"""The runtimes a model can be timed in, by name: what the pipeline's config, the timing step
and the runtimes table share (no code that runs them)."""
EAGER = "eager"
ONNXRUNTIME = "onnxruntime"
# the runtimes that read the network exported to ONNX (export_onnx); openvino_int8 reads its
# quantized model (quantize_int8)
FROM_ONNX = (ONNXRUNTIME, "openvino", "opencv_dnn")
RUNTIMES = (EAGER, "channels_last", "compile") + FROM_ONNX + ("openvino_int8",)
# what a runtime's column says where its outputs are not checked against eager's
SPEED_ONLY = {"openvino_int8": "INT8, speed only: accuracy not measured (random weights, no data set)"}
# the backend whose exports rtmlib runs in the scenes (RTMPose's, and mmdet 3.x's RTMDet beside it)
RTMLIB_BACKEND = "mmpose1"
