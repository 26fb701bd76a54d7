"""Stage 2: what can run a model's network besides eager PyTorch: the names, the ONNX export, the
INT8 quantisation, and the runners a timing round loads by name."""
