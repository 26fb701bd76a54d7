"""posebench: complexity and speed of MMPose models, one flat JSON record per step.

The subpackages are the pipeline's stages, in the order data flows through them; a module imports
only from its own stage, an earlier one, or the shared modules beside this file (records, failures,
stats, warm, codedeps, backends). tests/test_code.py checks the order.

1. catalog/   the model list and run config, each model resolved and labelled (mAP from metafiles)
2. runtimes/  the runtimes by name, the ONNX export, INT8 quantisation, the runners beyond eager
3. measure/   params and FLOPs, timing rounds (probe, memory, the rounds' plan, the environment)
4. scenes/    whole frames with N people, timed as a round is
5. report/    the tidy measurement table, cell statistics, tables, comparisons, plots, page, publish
"""
