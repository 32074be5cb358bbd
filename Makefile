# One entry point. `make help` lists the targets; `make all` is what CI runs.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON     ?= python3
VENV       ?= .venv
PY         := $(VENV)/bin/python
# Zoo names or `package.module:callable` words; empty means the whole zoo (python -m exporters models).
MODELS     ?=
ARTIFACTS  ?= artifacts
# A user model's own code (put on PYTHONPATH) and its pinned extra requirements (installed by setup).
MODEL_SRC          ?=
MODEL_REQUIREMENTS ?=
ifneq ($(MODEL_SRC),)
export PYTHONPATH := $(abspath $(MODEL_SRC))$(if $(PYTHONPATH),:$(PYTHONPATH))
endif
# The folders export wrote for MODELS, found from the manifests (a user model's folder is its spec's name).
MODEL_DIRS  = $$($(PY) -m exporters folders --artifacts $(ARTIFACTS) $(MODELS))
MVN        := mvn -q -B -f jvm_harness/pom.xml
HARNESS    := jvm_harness/target/jvm-harness.jar
# Caches and side files stay inside the checkout (.cache is ignored by git).
export TORCHINDUCTOR_CACHE_DIR := $(CURDIR)/.cache/inductor
export DJL_CACHE_DIR           := $(CURDIR)/.cache/djl

# auto: Docker when a daemon answers, else native. docker: the per-format image stages (docker.mk).
RUNNER     ?= auto

.PHONY: help setup lock export export-models verify jvm jvm-verify bench report all all-native all-docker test test-python test-java clean

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-24s %s\n", $$1, $$2}'

setup: $(VENV)/.installed $(if $(MODEL_REQUIREMENTS),$(VENV)/.model-requirements) ## Install the pinned Python environment into .venv (+ MODEL_REQUIREMENTS)

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	PYTHONWARNINGS=ignore $(PY) -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[test]'
	@# OpenVINO sends usage telemetry by default; an export pipeline in CI should call nowhere.
	$(VENV)/bin/opt_in_out --opt_out >/dev/null
	touch $@

# The model's own pins on top of ours: constraints.txt wins, so a model cannot swap torch underneath.
$(VENV)/.model-requirements: $(MODEL_REQUIREMENTS) $(VENV)/.installed
	$(PY) -m pip install -q --disable-pip-version-check -c constraints.txt -r $(MODEL_REQUIREMENTS)
	touch $@

lock: ## Re-resolve pyproject.toml into constraints.txt (then run make test)
	$(PYTHON) -m venv --clear /tmp/lock-venv
	/tmp/lock-venv/bin/pip install -q '.[test]'
	{ echo '# The resolved, tested version set for pyproject.toml; regenerate with `make lock`.'; \
	  /tmp/lock-venv/bin/pip freeze --exclude-editable | grep -v '^model-export-pipeline'; } > constraints.txt

export: setup ## Export MODELS (default: the zoo) to every format under ARTIFACTS; models run in parallel under make -j
	@words="$(if $(MODELS),$(MODELS),$$($(PY) -m exporters models --names))"; \
	$(MAKE) --no-print-directory export-models EXPORT_WORDS="$$(echo $$words | tr ':' '@')"

# One target per model word (':' travels as '@', which Make does not split on).
export-models: $(addprefix export-model/,$(EXPORT_WORDS))
export-model/%:
	$(PY) -m exporters export '$(subst @,:,$*)' --out $(ARTIFACTS)

verify: setup ## Run every artifact in its Python runtime against the golden outputs
	dirs=$(MODEL_DIRS) && $(PY) -m exporters verify $$dirs

jvm: $(HARNESS) ## Build the JVM harness (Maven, quiet; no-op when unchanged)

$(HARNESS): jvm_harness/pom.xml $(shell find jvm_harness/src/main -type f 2>/dev/null)
	$(MVN) -DskipTests package
	touch $@

jvm-verify: setup jvm ## Run ONNX and TorchScript artifacts inside a JVM (JPype) against the golden outputs
	dirs=$(MODEL_DIRS) && $(PY) -m jvm_harness verify $$dirs

# The bench finds each model's folder from its word, as `folders` does; BENCH_ARGS e.g. --repeats 300 --threads 2.
# On a fresh checkout it exports and verifies first (the recommendation needs parity records).
BENCH_ARGS ?=
bench: setup jvm ## Latency and throughput of every artifact in Python and JVM runtimes beside eager PyTorch: ARTIFACTS/bench.{json,md}, plots/
	@$(PY) -m exporters folders --artifacts $(ARTIFACTS) $(MODELS) >/dev/null 2>&1 || $(MAKE) --no-print-directory export verify jvm-verify
	$(PY) -m exporters bench $(MODELS) --artifacts $(ARTIFACTS) $(BENCH_ARGS)

report: setup ## Write ARTIFACTS/report.json and report.md
	$(PY) -m exporters report $(ARTIFACTS)

all: ## setup -> export -> verify -> jvm-verify -> report for MODELS (RUNNER=auto|native|docker)
	@runner=$(RUNNER); \
	if [ "$$runner" = auto ]; then \
	  if docker/engine.sh --check; then runner=docker; else runner=native; fi; \
	fi; \
	case "$$runner" in native|docker) ;; *) echo "make all: RUNNER=$$runner: choose auto, native or docker" >&2; exit 2;; esac; \
	echo "make all: RUNNER=$(RUNNER) -> $$runner"; \
	$(MAKE) --no-print-directory all-$$runner

all-docker: docker-all

all-native:
	$(MAKE) setup jvm
	$(MAKE) export
	$(MAKE) verify
	$(MAKE) jvm-verify
	$(MAKE) report

test: test-python test-java ## Run the pytest suite and the JUnit tests

test-python: setup jvm
	$(PY) -m pytest

# Surefire's summary is INFO-level: keep the log, show its totals, and all of it on failure.
test-java: setup jvm
	$(PY) -m exporters export mlp --format onnx --format torchscript --out jvm_harness/target/test-artifacts
	mvn -B -ntp -f jvm_harness/pom.xml test -Dartifacts=$(CURDIR)/jvm_harness/target/test-artifacts \
	  > jvm_harness/target/mvn-test.log 2>&1 || { cat jvm_harness/target/mvn-test.log; exit 1; }
	grep -E '^\[(INFO|WARNING)\] Tests run:' jvm_harness/target/mvn-test.log | tail -1

include docker.mk

clean: ## Remove artifacts, builds and caches (keeps .venv)
	find $(ARTIFACTS) -mindepth 1 -not -name README.md -delete 2>/dev/null || true
	rm -rf jvm_harness/target .cache .pytest_cache
