# Two commands do everything on a fresh machine: `make table` (the environments it lacks, then the
# main job) and `make test`. `make help` lists every target: the line after `##` on each rule.
CORES ?= 2
SNAKEMAKE := .venvs/driver/bin/snakemake
BACKENDS := mmpose1 mmpose0
.DEFAULT_GOAL := table

MACHINE ?= amd-epyc-2core-vm
EXTRA_ROUNDS ?= 2

.PHONY: help table modern remeasure publish publish-modern machine-check repeatability repeatability-one-round setup setup-ultralytics test cluster-tools browser-tools check-complexity check-published lint format
help: ## this list: every target, one line each
	@awk -F':.*## ' '/^[a-z-]+:.*## / {printf "  %-24s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

table: setup ## the main job: the 78-row table, its plots, the comparison with the seed (results/)
	$(SNAKEMAKE) --cores $(CORES)

# The modern table (config/modern.yaml: the models people pick today in eager PyTorch, ONNX Runtime,
# OpenVINO and OpenVINO INT8, with the scenes) in results/modern/, leaving results/table.md alone;
# each model's own results are shared with it.
modern: setup setup-ultralytics ## the modern list (config/modern.yaml): runtimes and scenes too, in results/modern/
	$(SNAKEMAKE) --cores $(CORES) --configfile config/modern.yaml

# Re-time only the cells the last run marked unsteady (EXTRA_ROUNDS more rounds each), then
# rebuild the table, plots and comparisons.
remeasure: setup ## re-time the cells the last run marked (EXTRA_ROUNDS more rounds each), rebuild the table
	$(SNAKEMAKE) --cores $(CORES) --config remeasure=$(EXTRA_ROUNDS)

# The run's outputs as this machine's published reference (after `make table`): generated, never
# edited. Compare a later run with it: --config compare_with=published/$(MACHINE)
# ALONE=1 states in its COMMAND.md that nothing else ran on the machine during the run.
ALONE ?=
ALONE_FLAG := $(if $(ALONE),--alone)
ALONE_ARG := $(if $(ALONE), ALONE=$(ALONE))
publish: ## copy results/ to published/$(MACHINE)/ with its COMMAND.md (ALONE=1: nothing else ran)
	.venvs/driver/bin/python workflow/scripts/publish.py results published/$(MACHINE) $(ALONE_FLAG) \
	  --command "make table && make publish MACHINE=$(MACHINE)$(ALONE_ARG)"

# The same for the modern table (after `make modern`), in published/modern/$(MACHINE).
publish-modern: ## the same for results/modern/, into published/modern/$(MACHINE)/
	.venvs/driver/bin/python workflow/scripts/publish.py results/modern published/modern/$(MACHINE) $(ALONE_FLAG) \
	  --command "make modern && make publish-modern MACHINE=$(MACHINE)$(ALONE_ARG)" \
	  --run "snakemake --cores 2 --configfile config/modern.yaml"

# Before a long run or a publish: is this machine quiet enough for the timing target? The probe
# every round reads, for MACHINE_CHECK_S seconds with the rounds' threads, and the CPU other
# processes and the hypervisor took meanwhile (the machine's drift shows over minutes, not seconds).
# UNTIL_QUIET=3600 checks again until one check says quiet, for at most an hour, and stops (nothing
# run) where none did: make repeatability UNTIL_QUIET=3600 measures only a quiet machine, and keeps
# every check of its wait in bench/results/$(LABEL)-checks.csv.
MACHINE_CHECK_S ?= 120
UNTIL_QUIET ?=
CHECK_MACHINE := .venvs/$(firstword $(BACKENDS))/bin/python bench/check_machine.py --seconds $(MACHINE_CHECK_S) \
  $(if $(UNTIL_QUIET),--until-quiet $(UNTIL_QUIET))
machine-check: setup ## is this machine quiet enough for the timing target? (MACHINE_CHECK_S s; UNTIL_QUIET=s waits)
	$(CHECK_MACHINE)

# Two complete runs (A, B) of the same 8 models with the configured rounds: how far apart they
# read, how many cells each marks, how often each interval holds the other's mean, and the rounds
# each cell took (bench/results/default.md); the round jobs' wall time by phase beside it.
# THREADS runs the same with that many CPU threads a round (the check too), under its own label:
#   make repeatability THREADS=1
# LABEL names a pair of its own (bench/results/$(LABEL).md), leaving the default's figures alone:
#   make repeatability LABEL=noisy-hour
THREADS ?=
LABEL ?= $(if $(THREADS),threads-$(THREADS),default)
repeatability: setup ## two complete runs of 8 models, how far apart they read (bench/results/$(LABEL).md)
	mkdir -p bench/work && $(CHECK_MACHINE) $(if $(THREADS),--threads $(THREADS)) --json bench/results/$(LABEL)-check.json \
	  --log bench/results/$(LABEL)-checks.csv > bench/work/$(LABEL)-check.txt
	.venvs/driver/bin/python bench/repeatability.py --label $(LABEL) --timing "$(if $(THREADS),threads: $(THREADS))" \
	  --machine-check bench/work/$(LABEL)-check.txt --machine-check-json bench/results/$(LABEL)-check.json \
	  --output bench/results/$(LABEL).md
	.venvs/driver/bin/python bench/round_cost.py bench/work/$(LABEL)-A bench/work/$(LABEL)-B \
	  --output bench/results/$(LABEL)-round-cost.md

# The same with the old method (one round of the seed's 20 s budget and minimum of 3).
repeatability-one-round: setup ## the same pair with the seed's one-round method (bench/results/one-round.md)
	.venvs/driver/bin/python bench/repeatability.py --label one-round \
	  --timing "min_rounds: 1, max_rounds: 1, budget_s: 20, min_iterations: 3" --output bench/results/one-round.md

setup: ## build the missing virtual environments under .venvs/ (driver, mmpose1, mmpose0)
	@for env in driver $(BACKENDS); do envs/build_venv.sh $$env || exit 1; done

# Ultralytics YOLO pose, for the modern list only: AGPL-3.0, so the user's own install from PyPI
# (envs/requirements/ultralytics.txt), never a copy inside posebench.
setup-ultralytics: ## build .venvs/ultralytics (Ultralytics YOLO pose, AGPL-3.0) for the modern list
	@envs/build_venv.sh ultralytics

# Two workers: the real pipeline runs wait on Snakemake, sbatch and subprocesses much of the time.
test: setup setup-ultralytics cluster-tools browser-tools ## the test suite (two pytest workers); installs Slurm and Chromium as root
	.venvs/driver/bin/pytest -q -n 2 --dist worksteal --durations=15 tests

# Debian's Slurm and munge, for the test that runs the SLURM profile on a one-node cluster;
# installed only as root, else that test says why it is skipped.
cluster-tools: ## Debian's Slurm and munge, for the SLURM profile's test
	@command -v slurmctld >/dev/null && command -v munged >/dev/null || \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null; \
	  else echo "no Slurm here and not root: the SLURM test will be skipped"; fi

# Debian's Chromium and its driver, for the test that opens the page (index.html) in a real
# browser; installed only as root, else that test says why it is skipped.
browser-tools: ## Debian's Chromium and its driver, for the page's browser test
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	  else echo "no Chromium here and not root: the browser test will be skipped"; fi

# Every row's params and FLOPs against the seed's published numbers: counts what is not counted
# yet (resolve and complexity only, no timing), then compares the 78 records.
check-complexity: setup ## every row's params and FLOPs against the seed's (no timing)
	$(SNAKEMAKE) --cores $(CORES) --until complexity
	.venvs/driver/bin/python workflow/scripts/check_complexity.py --require-all --complexity-dir results/complexity

# The modern list's params and FLOPs (resolve and complexity only) against the figures their
# authors published (resources/published_complexity.csv), or "none published".
check-published: setup setup-ultralytics ## the modern list's params and FLOPs against their authors' published figures
	$(SNAKEMAKE) --cores $(CORES) --configfile config/modern.yaml --until complexity
	.venvs/driver/bin/python workflow/scripts/check_published.py config/models-modern.yaml

lint: ## snakemake --lint and snakefmt --check
	$(SNAKEMAKE) --lint
	.venvs/driver/bin/snakefmt --check Snakefile workflow/rules

format: ## snakefmt the Snakefile and the rules
	.venvs/driver/bin/snakefmt Snakefile workflow/rules
