"""The runtimes a model can be timed in, by name: what the pipeline's config, the timing step
and the runtimes table share (no code that runs them)."""
EAGER = "eager"
RUNTIMES = (EAGER, "channels_last", "compile", "onnxruntime", "openvino", "opencv_dnn", "openvino_int8")
# what a runtime's column says where its outputs are not checked against eager's
SPEED_ONLY = {"openvino_int8": "INT8, speed only: accuracy not measured (random weights, no data set)"}
