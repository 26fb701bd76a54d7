"""Stage 3: the measurements themselves: params and FLOPs, timing rounds (iterations, probe,
memory), which rounds each cell gets, and the environment each ran in."""
