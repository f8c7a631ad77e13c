# Two entry points: `make run` (the workflow on the default config) and `make test`.
# Both create the virtual environment .venv first; nothing needs to be installed by hand.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The CPU build of PyTorch by default; set TORCH="torch==2.13.0 --index-url ..." for another.
TORCH ?= torch==2.13.0
CORES ?= all
# .venv takes about 3 GiB (PyTorch is most of it); setup stops early, saying so, with less free.
MIN_FREE_GIB ?= 4

.PHONY: setup run report rate-study section5-seeds offline-full offline-full-other-seeds test test-quick mutation gpu-check gpu-wheelhouse lint clean

$(VENV)/.installed: pyproject.toml requirements/constraints.txt
	@$(PYTHON) -c "import shutil, sys; free = shutil.disk_usage('.').free / 2**30; \
	sys.exit(f'setup needs $(MIN_FREE_GIB) GiB free for $(VENV) (about 3 GiB, mostly PyTorch); {free:.1f} GiB free here') \
	if free < $(MIN_FREE_GIB) else None"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(TORCH)
	$(BIN)/python -m pip install --quiet -c requirements/constraints.txt -e ".[workflow,test]"
	# Numba compiles the CPU Fastfood and portable numerics' products, GELU and dropout masks
	# once, here, into its cache: no job compiles.
	$(BIN)/python -c "from intdim.fastfood import cpu; cpu.warm_up(); \
	from intdim.pipeline import fixed_order_gemm, portable_dropout, portable_gelu; \
	fixed_order_gemm.warm_up(); portable_gelu.warm_up(); portable_dropout.warm_up()"
	touch $@

setup: $(VENV)/.installed

# Ends with what the run found, from its own tables (the README's headline is written the same way).
run: setup
	$(BIN)/snakemake --cores $(CORES)
	$(BIN)/snakemake --cores $(CORES) --report results/report.html
	@$(BIN)/python tools/readme_section.py --directory . --config config/config.yaml --name headline --headline --command "make run"
	@echo "Every table, figure and the notebook: results/report.html"

report: setup
	$(BIN)/snakemake --report results/report.html

# The subspace learning-rate study behind the default's rate (about 11 min on 2 cores), in its
# own folder; its section in docs/results/rate_study.md is written from its tables.
rate-study: setup
	$(BIN)/snakemake --cores $(CORES) --configfile config/rate_study.yaml --directory results/rate_study -s Snakefile
	$(BIN)/python tools/readme_section.py --directory results/rate_study --config config/rate_study.yaml --name rate_study --command "make rate-study" --readme docs/results/rate_study.md

# Figure 2 of the default over five pre-training seeds (0 to 4): Section 5 with seed 0 here and
# with config/section5_seed{1,2,3,4}.yaml each in results/section5_seed<N> (rerun to resume; 4 x
# about 7 min on 2 cores after `make run`), then each run's verdict and their count, printed, in
# results/figure2_over_seeds.csv and docs/results/offline_default.md, every run drawn in
# results/figures/figure2_over_seeds.png, and Figures 4 and 5 judged and drawn on all five runs'
# checkpoints together (results/figures/figures4_5_over_seeds.png).
SECTION5_SEEDS := 1 2 3 4
section5-seeds: setup
	$(BIN)/snakemake --cores $(CORES) -- results/figures/figure2.png
	for seed in $(SECTION5_SEEDS); do \
	  $(BIN)/snakemake --cores $(CORES) --configfile config/config.yaml config/section5_seed$$seed.yaml --directory results/section5_seed$$seed -s Snakefile -- results/figures/figure2.png || exit 1; \
	done
	$(BIN)/python tools/figure2_over_runs.py seed0=. $(foreach s,$(SECTION5_SEEDS),seed$(s)=results/section5_seed$(s)) --out results/figure2_over_seeds.csv --figure results/figures/figure2_over_seeds.png --figure45 results/figures/figures4_5_over_seeds.png --readme docs/results/offline_default.md --name section5_seeds

# The fuller offline run (77 min on 2 AVX-512 cores at d2975c9, up to 3.5 hours on 2 slower
# ones), in its own folder; rerun to resume. Its section in docs/results/offline_full.md is
# written from its tables, with the wall time summed over the Snakemake runs it took.
offline-full: setup
	$(BIN)/snakemake --cores $(CORES) --configfile config/offline_full.yaml --directory results/offline_full -s Snakefile
	$(BIN)/python tools/readme_section.py --directory results/offline_full --config config/offline_full.yaml --name offline_full --command "make offline-full" --readme docs/results/offline_full.md

# Section 5 of the fuller run with other seeds (94 min at most on 2 AVX-512 cores at d6129b7):
# pre-training, the searches along it and Figures 2, 4 and 5, in results/offline_full_other_seeds
# (rerun to resume); its section of docs/results/offline_full.md is written from its tables.
OTHER_SEEDS := config/offline_full.yaml config/offline_full_other_seeds.yaml
offline-full-other-seeds: setup
	$(BIN)/snakemake --cores $(CORES) --configfile $(OTHER_SEEDS) --directory results/offline_full_other_seeds -s Snakefile -- results/figures/figure2.png results/figures/figure4_5.png
	$(BIN)/python tools/readme_section.py --directory results/offline_full_other_seeds --config "$(OTHER_SEEDS)" --name offline_full_other_seeds --command "make offline-full-other-seeds" --readme docs/results/offline_full.md

# One pytest-xdist worker per core, and one for the SLURM tests (which mostly wait) unless slow
# tests are left out; each file on one worker, in collection order (tests/conftest.py).
# The 20 slowest test phases close the output, so a run that nears CI's limit shows where it went.
PYTEST := $(BIN)/python -m pytest -n auto --dist loadfile --no-loadscope-reorder --durations=20

test: setup
	$(PYTEST)

# The edit loop: everything but the end-to-end workflow, SLURM and compile tests (993 of 1,038
# tests; 3.5 min after set-up in a fresh clone at 485c35d on a 2-core AMD EPYC of model 17).
test-quick: setup
	$(PYTEST) -m "not slow"

# Mutation testing of the modules that decide numbers and verdicts against their fast tests
# (pyproject's [tool.mutmut]; docs/testing.md gives the time and the last table).
MUTATION := build/mutation
mutation: setup
	$(BIN)/python -m pip install --quiet -c requirements/constraints.txt -e ".[mutation]"
	rm -rf $(MUTATION) && mkdir -p $(MUTATION)/src $(MUTATION)/schemas
	git ls-files -z | grep -zv '^workflow/scripts/intdim/' | xargs -0 cp --parents -t $(MUTATION)
	cp -r workflow/scripts/intdim $(MUTATION)/src/ && find $(MUTATION)/src -name __pycache__ -prune -exec rm -rf {} +
	cp workflow/schemas/config.schema.yaml $(MUTATION)/schemas/
# One OpenMP thread: mutmut forks its workers from a process that has run torch, and a
# forked worker waits forever on the parent's thread pool (until mutmut's wall-clock limit).
	cd $(MUTATION) && OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(CURDIR)/$(BIN)/mutmut run --max-children 2
	$(BIN)/python tools/mutation_table.py --mutants $(MUTATION)/mutants

# The GPU path, checked and timed on this machine's GPU (smoke mode without one). Runs from the
# checkout, no install: on an air-gapped GPU node with torch, transformers and Triton,
# `make gpu-check` uses that python3; here the virtual environment's if it exists.
# Options go through GPU_CHECK_ARGS, e.g. GPU_CHECK_ARGS="--budget-s 300".
GPU_PYTHON ?= $(shell test -x $(BIN)/python && echo $(BIN)/python || echo $(PYTHON))
gpu-check:
	PYTHONPATH=workflow/scripts $(GPU_PYTHON) tools/gpu_check.py $(GPU_CHECK_ARGS)

# Wheels of Snakemake and datasets for an air-gapped GPU node (.whl/, about 30 MB), which
# gpu-check installs there into a scratch folder; GPU_NODE_PYTHON is the node's Python.
GPU_NODE_PYTHON ?= 3.12
gpu-wheelhouse:
	$(GPU_PYTHON) tools/gpu_wheelhouse.py --python-version $(GPU_NODE_PYTHON)

# ruff, snakefmt and `snakemake --lint`, as tests/test_lint.py runs them (the quick tier too).
lint: setup
	$(BIN)/python -m pytest -q tests/test_lint.py

clean:
	rm -rf .snakemake results/* logs benchmarks
