# Docker runner: per-format export stages, JVM parity stage, deployment images (docker/Dockerfile).
# Included by the Makefile, which defines MODELS and ARTIFACTS.

BASE_IMAGE      ?= debian:bookworm
IMAGE           ?= model-export-pipeline
TAG             ?= latest
# Extra CA certificates for a TLS-intercepting proxy: files (PEM), default the host's local ones.
EXTRA_CA_CERTS  ?= $(wildcard /usr/local/share/ca-certificates/*.crt)
# 1 keeps EXTRA_CA_CERTS trusted inside the deployment image too.
KEEP_CA_CERTS   ?= 0
DOCKER_PROGRESS ?= auto
# Build cache kept by docker-prune (pip, Maven and inductor cache mounts, unused layers). A Docker leg adds its
# new layers on top of what is kept (3 GiB with warm layers here; a cold one rebuilds them all), and both must
# fit beside the checkout's environments: a 40GB bound filled a 92 GB disk.
DOCKER_KEEP_CACHE ?= 15GB
# A docker CLI that drives BuildKit (needed for cache mounts): the default one when it has buildx,
# else docker.io's own 20.10 client, which embeds BuildKit. Deferred (?=), so it sees an engine
# installed by docker-engine earlier in the same run.
DOCKER ?= $(shell if docker buildx version >/dev/null 2>&1; then echo docker; \
                  elif [ -x /usr/bin/docker ]; then echo /usr/bin/docker; else echo docker; fi)

# >>> formats: docker-formats (rendered by `python -m jvm_harness render` from exporters/formats; do not edit)
# The export stages (make docker-<stage>) and the formats their STAGE_<format> arguments name.
DOCKER_FORMATS := torchscript exported-program onnx aoti executorch openvino
STAGE_FORMATS  := torchscript exported_program onnx aoti executorch openvino
# <<< formats
# The gate (FORMATS, REQUIRE: see the Makefile): the merge takes each format from the stage its
# STAGE_<format> argument names; formats outside FORMATS get the empty no-export, so BuildKit never
# builds their export stages.
SKIPPED_STAGES  = $(if $(strip $(FORMATS)),$(filter-out $(FORMATS),$(STAGE_FORMATS)))
# Formats of the per-format deployment image (empty: only the all-formats jvm-runtime image), e.g.
# DEPLOY_FORMATS="onnx" gives IMAGE/jvm-runtime-onnx with ONNX Runtime Java only.
DEPLOY_FORMATS  ?=
DEPLOY_IMAGE     = $(IMAGE)/jvm-runtime-$(subst $(space),-,$(strip $(DEPLOY_FORMATS))):$(TAG)
space          := $(subst ,, )
DOCKER_BUILD    = DOCKER_BUILDKIT=1 $(DOCKER) build -f docker/Dockerfile --progress=$(DOCKER_PROGRESS) \
                  --build-arg BASE_IMAGE=$(BASE_IMAGE) --build-arg MODELS="$(MODELS)" \
                  --build-arg FORMATS="$(FORMATS)" --build-arg REQUIRE="$(REQUIRE)" \
                  $(foreach f,$(SKIPPED_STAGES),--build-arg STAGE_$(f)=no-export)
DOCKER_OUT     := .cache/docker-out

# $(call copy_out,STAGE): write a scratch stage's tree into ARTIFACTS, replacing the folders it holds
# and the report only once the build has succeeded.
define copy_out
	rm -rf $(DOCKER_OUT)
	$(DOCKER_BUILD) --target $(1) -o type=local,dest=$(DOCKER_OUT) .
	mkdir -p $(ARTIFACTS)
	for item in $(DOCKER_OUT)/*; do rm -rf "$(ARTIFACTS)/$$(basename "$$item")"; mv "$$item" $(ARTIFACTS)/; done
	rm -rf $(DOCKER_OUT)
	@echo "docker: $(1) copied into $(ARTIFACTS)/"
endef

.PHONY: docker-engine docker-base docker-certs docker-model $(addprefix docker-,$(DOCKER_FORMATS)) docker-artifacts \
        docker-jvm docker-images docker-self-check docker-all docker-prune

docker-engine: ## Start the Docker daemon (as root: installs docker.io + debootstrap when absent)
	@docker/engine.sh

docker-base: docker-engine ## Make BASE_IMAGE exist: pull it, else debootstrap Debian bookworm and import it
	@docker/build-base.sh $(BASE_IMAGE)

# Stage EXTRA_CA_CERTS into the build context (docker/.certs is git-ignored), renamed *.crt as
# update-ca-certificates expects.
docker-certs:
	@rm -rf docker/.certs && mkdir -p docker/.certs
	@for cert in $(EXTRA_CA_CERTS); do \
	  test -f "$$cert" || { echo "docker: EXTRA_CA_CERTS: $$cert is not a file" >&2; exit 2; }; \
	  install -m 0644 "$$cert" "docker/.certs/$$(basename "$${cert%.*}").crt"; \
	done

# Stage the user model's code (MODEL_SRC) and pinned requirements (MODEL_REQUIREMENTS) into the
# build context (docker/.model is git-ignored); both empty for the zoo.
docker-model:
	@rm -rf docker/.model && mkdir -p docker/.model/src
	@if [ -n "$(MODEL_SRC)" ]; then \
	  test -d "$(MODEL_SRC)" || { echo "docker: MODEL_SRC=$(MODEL_SRC) is not a folder" >&2; exit 2; }; \
	  cp -r "$(MODEL_SRC)"/. docker/.model/src/; \
	  find docker/.model/src -name __pycache__ -prune -exec rm -rf {} +; \
	fi
	@if [ -n "$(MODEL_REQUIREMENTS)" ]; then \
	  test -f "$(MODEL_REQUIREMENTS)" || { echo "docker: MODEL_REQUIREMENTS=$(MODEL_REQUIREMENTS) is not a file" >&2; exit 2; }; \
	  cp "$(MODEL_REQUIREMENTS)" docker/.model/requirements.txt; \
	else touch docker/.model/requirements.txt; fi

$(addprefix docker-,$(DOCKER_FORMATS)): docker-%: docker-base docker-certs docker-model
	$(DOCKER_BUILD) --target export-$* -t $(IMAGE)/export-$*:$(TAG) .

docker-artifacts: docker-base docker-certs docker-model ## Build the stage of each of FORMATS (default every format), merge them and copy the tree into ARTIFACTS
	$(call copy_out,artifacts)

docker-jvm: docker-base docker-certs docker-model ## Verify in Python and in the JVM (build fails on mismatch); copy verified ARTIFACTS + report
	$(DOCKER_BUILD) --target jvm-harness -t $(IMAGE)/jvm-harness:$(TAG) .
	$(call copy_out,verified-artifacts)

docker-images: docker-base docker-certs docker-model ## Build the exporter and JVM runtime images (+ one for DEPLOY_FORMATS only, which must have passed); print sizes
	$(DOCKER_BUILD) --target exporter -t $(IMAGE)/exporter:$(TAG) .
	$(DOCKER_BUILD) --target jvm-runtime --build-arg KEEP_CA_CERTS=$(KEEP_CA_CERTS) -t $(IMAGE)/jvm-runtime:$(TAG) .
	$(if $(strip $(DEPLOY_FORMATS)),$(DOCKER_BUILD) --target jvm-runtime-formats --build-arg DEPLOY_FORMATS="$(DEPLOY_FORMATS)" -t $(DEPLOY_IMAGE) .)
	@$(DOCKER) image ls --format '{{.Repository}}:{{.Tag}}  {{.Size}}' | grep -E '^$(IMAGE)/(exporter|jvm-runtime[-a-z_]*):$(TAG) '

docker-self-check: ## Run the deployment images' default command (JVM parity, pinned manifests), non-root
	$(DOCKER) run --rm $(IMAGE)/jvm-runtime:$(TAG)
	$(if $(strip $(DEPLOY_FORMATS)),$(DOCKER) run --rm $(DEPLOY_IMAGE))

docker-all: docker-jvm docker-images ## Everything in Docker: every stage, verified ARTIFACTS, images, self-check
	$(MAKE) --no-print-directory docker-self-check

docker-prune: ## Drop dangling images; trim the build cache to DOCKER_KEEP_CACHE (tagged images stay)
	$(DOCKER) image prune -f
	$(DOCKER) builder prune -f --keep-storage $(DOCKER_KEEP_CACHE)
