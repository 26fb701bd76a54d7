"""posebench: complexity and speed of MMPose models, one flat JSON record per step."""
