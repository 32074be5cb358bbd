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
# Build cache kept by docker-prune (pip, Maven and inductor cache mounts, unused layers).
DOCKER_KEEP_CACHE ?= 40GB
# A docker CLI that drives BuildKit (needed for cache mounts): the default one when it has buildx,
# else docker.io's own 20.10 client, which embeds BuildKit. Deferred (?=), so it sees an engine
# installed by docker-engine earlier in the same run.
DOCKER ?= $(shell if docker buildx version >/dev/null 2>&1; then echo docker; \
                  elif [ -x /usr/bin/docker ]; then echo /usr/bin/docker; else echo docker; fi)

DOCKER_FORMATS := torchscript exported-program onnx aoti executorch openvino
DOCKER_BUILD    = DOCKER_BUILDKIT=1 $(DOCKER) build -f docker/Dockerfile --progress=$(DOCKER_PROGRESS) \
                  --build-arg BASE_IMAGE=$(BASE_IMAGE) --build-arg MODELS="$(MODELS)"
DOCKER_OUT     := .cache/docker-out

# $(call copy_out,STAGE): write a scratch stage's tree into ARTIFACTS, replacing MODELS' folders and
# the report only once the build has succeeded.
define copy_out
	rm -rf $(DOCKER_OUT)
	$(DOCKER_BUILD) --target $(1) -o type=local,dest=$(DOCKER_OUT) .
	rm -rf $(addprefix $(ARTIFACTS)/,$(MODELS)) $(ARTIFACTS)/report.json $(ARTIFACTS)/report.md
	mkdir -p $(ARTIFACTS) && mv $(DOCKER_OUT)/* $(ARTIFACTS)/ && rm -rf $(DOCKER_OUT)
	@echo "docker: $(1) copied into $(ARTIFACTS)/"
endef

.PHONY: docker-engine docker-base docker-certs $(addprefix docker-,$(DOCKER_FORMATS)) docker-artifacts \
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

docker-torchscript:      ## Export MODELS to TorchScript in stage export-torchscript
docker-exported-program: ## Export MODELS to torch.export programs in stage export-exported-program
docker-onnx:             ## Export MODELS to ONNX in stage export-onnx
docker-aoti:             ## Export MODELS to AOTInductor packages in stage export-aoti
docker-executorch:       ## Export MODELS to ExecuTorch in stage export-executorch
docker-openvino:         ## Export MODELS to OpenVINO IR in stage export-openvino
$(addprefix docker-,$(DOCKER_FORMATS)): docker-%: docker-base docker-certs
	$(DOCKER_BUILD) --target export-$* -t $(IMAGE)/export-$*:$(TAG) .

docker-artifacts: docker-base docker-certs ## Build every format's stage, merge them and copy the tree into ARTIFACTS
	$(call copy_out,artifacts)

docker-jvm: docker-base docker-certs ## Verify in Python and in the JVM (build fails on mismatch); copy verified ARTIFACTS + report
	$(DOCKER_BUILD) --target jvm-harness -t $(IMAGE)/jvm-harness:$(TAG) .
	$(call copy_out,verified-artifacts)

docker-images: docker-base docker-certs ## Build the exporter and the JVM runtime (deployment) images; print sizes
	$(DOCKER_BUILD) --target exporter -t $(IMAGE)/exporter:$(TAG) .
	$(DOCKER_BUILD) --target jvm-runtime --build-arg KEEP_CA_CERTS=$(KEEP_CA_CERTS) -t $(IMAGE)/jvm-runtime:$(TAG) .
	@$(DOCKER) image ls --format '{{.Repository}}:{{.Tag}}  {{.Size}}' | grep -E '^$(IMAGE)/(exporter|jvm-runtime):$(TAG) '

docker-self-check: ## Run the deployment image's default command: JVM parity on its golden vectors, non-root
	$(DOCKER) run --rm $(IMAGE)/jvm-runtime:$(TAG)

docker-all: docker-jvm docker-images ## Everything in Docker: every stage, verified ARTIFACTS, images, self-check
	$(MAKE) --no-print-directory docker-self-check

docker-prune: ## Drop dangling images; trim the build cache to DOCKER_KEEP_CACHE (tagged images stay)
	$(DOCKER) image prune -f
	$(DOCKER) builder prune -f --keep-storage $(DOCKER_KEEP_CACHE)
