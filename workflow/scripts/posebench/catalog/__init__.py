"""Stage 1: which models, and what defines each one's measurements (resolve) and how the table
names it (labels, mAP from MMPose's metafiles or the seed)."""
