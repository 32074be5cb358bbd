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
# The gate: the formats to export and those that must pass for exit 0 (the others only inform), e.g.
# FORMATS="onnx aoti" REQUIRE="onnx". Empty: the spec's formats= and required=, else all six, all required.
FORMATS    ?=
REQUIRE    ?=
FORMAT_ARGS  = $(foreach f,$(FORMATS),--format $(f))
REQUIRE_ARGS = $(foreach f,$(REQUIRE),--require $(f))
# FORCE=1: export, verify and jvm-verify redo everything, even where a recorded result's key still matches.
FORCE      ?=
FORCE_ARG    = $(if $(FORCE),--force)
# Formats of one model exported at once, each in its own process; empty: one per core as memory allows.
EXPORT_JOBS ?=
ifneq ($(MODEL_SRC),)
export PYTHONPATH := $(abspath $(MODEL_SRC))$(if $(PYTHONPATH),:$(PYTHONPATH))
endif
# The folders export wrote for MODELS, found from the manifests (a user model's folder is its spec's name).
MODEL_DIRS  = $$($(PY) -m exporters folders --artifacts $(ARTIFACTS) $(MODELS))
MVN        := mvn -q -B -f jvm_harness/pom.xml
HARNESS    := jvm_harness/target/jvm-harness.jar
# The ExecuTorch JVM runner's JNI shim, built (jvm_harness/src/main/native/build-executorch-jni.sh, the
# recipe every served ExecuTorch version uses) against the C++ runtime SDK of the pinned executorch wheel.
# Only unpacked, never installed: the exporter stays on executorch 1.4.1, whose wheel has no linkable
# runtime; 1.5.1 runs 1.4.1 programs (next-minor compatibility). The pin (version, file, sha256, platform)
# and the other versions: jvm_harness/runtimes.py.
ET_PIN     := $(shell $(PYTHON) -m jvm_harness.runtimes executorch)
$(if $(word 4,$(ET_PIN)),,$(error $(PYTHON) -m jvm_harness.runtimes executorch did not name the pinned ExecuTorch wheel))
ET_RUNTIME_VERSION := $(word 1,$(ET_PIN))
ET_WHEEL   := .cache/wheels/$(word 2,$(ET_PIN))
ET_WHEEL_SHA256 := $(word 3,$(ET_PIN))
ET_BUILD   := jvm_harness/src/main/native/build-executorch-jni.sh
NATIVE     := jvm_harness/target/native
ET_JNI     := $(NATIVE)/libexecutorch_jni.so
# Caches and side files stay inside the checkout (.cache is ignored by git).
export TORCHINDUCTOR_CACHE_DIR := $(CURDIR)/.cache/inductor
export DJL_CACHE_DIR           := $(CURDIR)/.cache/djl
export JAVACPP_CACHE_DIR       := $(CURDIR)/.cache/javacpp
# ONNX Runtime (Python and Java, 1.29+) records telemetry from its first environment unless this is set.
export ORT_DISABLE_TELEMETRY   ?= 1

# auto: Docker when a daemon answers, else native. docker: the per-format image stages (docker.mk).
RUNNER     ?= auto

.PHONY: help setup lock export reproduce verify jvm jvm-verify compat compat-producers compat-ci soak soak-ci bench report gate all all-native all-docker test test-exports test-python test-java clean

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

export: setup ## Export MODELS (default: the zoo) to FORMATS (default every format) under ARTIFACTS; exit 1 if a REQUIRE format fails
	$(PY) -m exporters export $(foreach m,$(MODELS),'$(m)') --out $(ARTIFACTS) $(FORMAT_ARGS) $(REQUIRE_ARGS) $(FORCE_ARG) $(if $(EXPORT_JOBS),--jobs $(EXPORT_JOBS))

verify: setup ## Run every artifact in its Python runtime against the golden outputs (gate: REQUIRE)
	dirs=$(MODEL_DIRS) && $(PY) -m exporters verify $$dirs $(FORMAT_ARGS) $(REQUIRE_ARGS) $(FORCE_ARG)

jvm: $(HARNESS) $(ET_JNI) ## Build the JVM harness, its JNI shim and the natives jars (quiet; no-op when unchanged)
	@$(PYTHON) -m jvm_harness.natives >/dev/null

$(HARNESS): jvm_harness/pom.xml exporters/contract/manifest.schema.json $(shell find jvm_harness/src/main jvm_harness/src/engines -type f 2>/dev/null)
	$(MVN) -DskipTests package
	touch $@

$(ET_WHEEL):
	mkdir -p $(@D)
	$(PYTHON) -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: --python-version 3.11 \
	  --platform $(word 4,$(ET_PIN)) -d $(@D) executorch==$(ET_RUNTIME_VERSION)
	echo "$(ET_WHEEL_SHA256)  $@" | sha256sum -c --quiet - \
	  || { rm -f $@; echo "make jvm: $@ does not match its pinned sha256: delete .cache/wheels and retry" >&2; exit 1; }

$(ET_JNI): jvm_harness/src/main/native/executorch_jni.cpp $(ET_BUILD) $(ET_WHEEL)
	$(ET_BUILD) $(ET_WHEEL) $(ET_RUNTIME_VERSION) .cache/executorch-$(ET_RUNTIME_VERSION) $(NATIVE)

jvm-install: setup jvm ## Install into the local Maven repository: org.exportpipeline:jvm-harness-ENGINE:0.1.0, one per engine, and jvm-harness-bom
	$(PY) -m jvm_harness install

# Runtime versions to prove on, e.g. JVM_RUNTIMES="onnxruntime=1.22.0 openvino=2025.4.1" (the table: jvm_harness/runtimes.py);
# empty: every engine on its pinned version.
JVM_RUNTIMES ?=
jvm-verify: setup jvm ## Java check (integrity + parity) of every artifact a JVM engine runs, one JVM per engine (JVM_RUNTIMES: chosen versions)
	dirs=$(MODEL_DIRS) && $(PY) -m jvm_harness verify $$dirs $(REQUIRE_ARGS) $(FORCE_ARG) $(if $(JVM_RUNTIMES),--runtimes "$(JVM_RUNTIMES)")

# The bench finds each model's folder from its word, as `folders` does; BENCH_ARGS e.g. --repeats 300 --threads 2.
# On a fresh checkout it exports and verifies first (the recommendation needs parity records).
BENCH_ARGS ?=
bench: setup jvm ## Latency and throughput of every artifact in Python and JVM runtimes beside eager PyTorch: ARTIFACTS/bench.{json,md}, plots/
	@$(PY) -m exporters folders --artifacts $(ARTIFACTS) $(MODELS) >/dev/null 2>&1 || $(MAKE) --no-print-directory export verify jvm-verify
	$(PY) -m exporters bench $(MODELS) --artifacts $(ARTIFACTS) $(BENCH_ARGS)

# The producer x consumer matrix: the zoo's JVM formats (those the built runners load) on every runtime version
# in jvm_harness/runtimes.py.
COMPAT_MODELS  ?= mlp cnn
JVM_FORMATS     = $$($(PY) -m jvm_harness formats)
COMPAT_DIRS     = $$($(PY) -m exporters folders --artifacts $(ARTIFACTS) $(1))
compat: setup jvm ## Every JVM format of COMPAT_MODELS (mlp cnn) on every served runtime version: ARTIFACTS/compat.json and report.md's matrix
	@$(PY) -m exporters folders --artifacts $(ARTIFACTS) $(COMPAT_MODELS) >/dev/null 2>&1 \
	  || { formats=$(JVM_FORMATS) && $(MAKE) --no-print-directory export MODELS="$(COMPAT_MODELS)" FORMATS="$$formats"; }
	dirs=$(call COMPAT_DIRS,$(COMPAT_MODELS)) && $(PY) -m jvm_harness compat $$dirs --out $(ARTIFACTS)/compat.json
	$(PY) -m exporters report $(ARTIFACTS)

# Other producers (jvm_harness/producers.py): each torch in its own environment under .cache/producers/ (built
# once, gigabytes each: not part of CI), its zoo in ARTIFACTS/producers/NAME/. PRODUCERS empty: every one.
PRODUCERS ?=
compat-producers: setup jvm ## COMPAT_MODELS exported by other torch versions (PRODUCERS), consumed by today's runtimes and the oldest JVM ones: ARTIFACTS/compat-producers.json
	$(PY) -m jvm_harness compat-producers $(COMPAT_MODELS) --artifacts $(ARTIFACTS) --out $(ARTIFACTS)/compat-producers.json \
	  $(foreach p,$(PRODUCERS),--producer $(p))
	$(PY) -m exporters report $(ARTIFACTS)

# CI's slice: mlp on the oldest and newest version of each engine. Red when any runtime answers wrongly, or
# when a cell a service relies on stops passing (--ci: jvm_harness/compat.py's must_pass).
compat-ci: setup jvm ## The CI slice of make compat: mlp, oldest and newest runtime of each engine (exit 1 when a must-pass cell fails)
	dirs=$(call COMPAT_DIRS,mlp) && $(PY) -m jvm_harness compat $$dirs --ci --strict --out $(ARTIFACTS)/compat-ci.json

# A service's load, sustained, on every JVM runtime (SelfCheck --soak): SOAK_CALLERS threads share each opened runner for
# SOAK_SECONDS, each call on fresh input buffers, the GC forced meanwhile; zero wrong answers and a bounded RSS slope.
# Unset, each is the soak's own default (python -m jvm_harness soak --help; callers: Soak.DEFAULT_CALLERS).
SOAK_MODELS  ?= encoder
SOAK_SECONDS ?=
SOAK_CALLERS ?=
soak: setup jvm ## Every JVM runtime under sustained load and GC pressure on SOAK_MODELS (encoder): ARTIFACTS/soak.json; exit 1 on a wrong answer
	@$(PY) -m exporters folders --artifacts $(ARTIFACTS) $(SOAK_MODELS) >/dev/null 2>&1 || $(MAKE) --no-print-directory export MODELS="$(SOAK_MODELS)"
	dirs=$(call COMPAT_DIRS,$(SOAK_MODELS)) && $(PY) -m jvm_harness soak $$dirs $(if $(SOAK_SECONDS),--seconds $(SOAK_SECONDS)) $(if $(SOAK_CALLERS),--callers $(SOAK_CALLERS)) \
	  --out $(ARTIFACTS)/soak.json

soak-ci: ## CI's short soak: make soak for 20 s per runtime (answers judged; the RSS slope needs 60 s after warm-up)
	$(MAKE) --no-print-directory soak SOAK_SECONDS=20

reproduce: setup ## Export MODELS again and record per format whether the files are byte-identical
	$(PY) -m exporters reproduce $(MODELS) --artifacts $(ARTIFACTS)

report: setup ## Write ARTIFACTS/report.json and report.md
	$(PY) -m exporters report $(ARTIFACTS)

gate: setup ## From the manifests: which REQUIRE formats passed, informative failures with hints; exit 1 if a required one failed
	dirs=$(MODEL_DIRS) && $(PY) -m exporters gate $$dirs $(FORMAT_ARGS) $(REQUIRE_ARGS)

all: ## setup -> export -> verify -> jvm-verify -> report -> gate for MODELS (RUNNER=auto|native|docker; FORMATS, REQUIRE)
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
	$(MAKE) gate

# pytest and JUnit side by side (one mostly waits on torch, the other on the JVM), after the exports both read.
test: ## Run the pytest suite and the JUnit tests
	$(MAKE) --no-print-directory --output-sync=target -j2 test-python test-java

# mlp in every format, made once and reused while unchanged: pytest's mlp_dir starts from it (and verifies it),
# JUnit reads the formats a JVM runner loads.
TEST_EXPORTS := jvm_harness/target/test-exports
test-exports: setup jvm
	$(PY) -m exporters export mlp --out $(TEST_EXPORTS)

# The tests read the team model's golden box too: its pinned requirement comes with them.
test-python: test-exports $(VENV)/.team-model-requirements
	MLP_EXPORT=$(CURDIR)/$(TEST_EXPORTS)/mlp $(PY) -m pytest

$(VENV)/.team-model-requirements: tests/team_model/requirements.txt $(VENV)/.installed
	$(PY) -m pip install -q --disable-pip-version-check -c constraints.txt -r $<
	touch $@

# Surefire's summary is INFO-level: keep the log, show its totals, and all of it on failure.
# mlp in every format a JVM runner loads (as the runners themselves list them), cnn for swap probes.
test-java: test-exports
	formats=$(JVM_FORMATS) && $(PY) -m exporters merge $(TEST_EXPORTS) $$(printf -- '--format %s ' $$formats) --out jvm_harness/target/test-artifacts
	$(PY) -m exporters export cnn --format torchscript --out jvm_harness/target/test-artifacts
	$(PY) -m exporters export tests.text_models:bpe_embedder --out jvm_harness/target/test-artifacts
	$(PY) tests/contract_vectors/generate.py jvm_harness/target/contract-vectors
	mvn -B -ntp -f jvm_harness/pom.xml test -Dartifacts=$(CURDIR)/jvm_harness/target/test-artifacts \
	  > jvm_harness/target/mvn-test.log 2>&1 || { cat jvm_harness/target/mvn-test.log; exit 1; }
	grep -E '^\[(INFO|WARNING)\] Tests run:' jvm_harness/target/mvn-test.log | tail -1

include docker.mk

clean: ## Remove artifacts, builds and caches (keeps .venv)
	find $(ARTIFACTS) -mindepth 1 -not -name README.md -delete 2>/dev/null || true
	rm -rf jvm_harness/target .cache .pytest_cache
