"""What bench/ and `make machine-check` use to study the machine and the method (the machine's
quietness, pairs of runs, where a round's time goes); the pipeline never imports these."""
