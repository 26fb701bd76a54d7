"""Stage 4: whole frames with N people (a detector plus a top-down model, or a one-pass model),
planned from the config and timed as a round is."""
