"""docker/Dockerfile's rendered blocks: the export stages from the format registry (exporters.formats, asked
through `python -m exporters formats`: the harness never imports the exporters), the runtime image from the engine
registry (runtimes.ENGINES); and docker.mk's list of those stages.

A Dockerfile has no loops, so the per-format stages and the merge stage's COPY lines are written out.
It has no conditionals either: the merge copies each format from a `part-<format>` stage whose base is the
build argument STAGE_<format> (a global ARG, so it sits in a block of its own above the first FROM).
docker.mk points the formats outside FORMATS at `no-export`, an empty tree, and BuildKit then never builds
their export stages.
"""

from __future__ import annotations

import functools
import json
import subprocess
import sys

from .runtimes import SERVICE_ENV

# The engines the jvm-runtime image carries; its artifacts are the formats their runners serve (onnx, torchscript).
IMAGE_ENGINES = ("onnxruntime", "djl-pytorch")


@functools.cache
def formats() -> tuple[dict, ...]:
    """The format registry in its order, as the exporters' CLI lists it: each format's name and settings names."""
    listed = subprocess.run([sys.executable, "-m", "exporters", "formats", "--json"], capture_output=True, text=True, check=True)
    return tuple(json.loads(listed.stdout))


def format_names() -> tuple[str, ...]:
    return tuple(fmt["name"] for fmt in formats())


def stage_name(fmt: str, kind: str = "export") -> str:
    return f"{kind}-{fmt.replace('_', '-')}"


def stage_args() -> list[str]:
    return ["# The stage each format's tree comes from; docker.mk sets STAGE_<format>=no-export for those",
            "# outside FORMATS, so their export stages are never built.",
            *(f"ARG STAGE_{name}={stage_name(name)}" for name in format_names())]


def export_stages() -> list[str]:
    lines = ["# One stage per format, each writing its own artifacts tree to /out; the inductor cache",
             "# survives between builds on this machine (a re-export skips AOTI's cold header compile)."]
    for name in format_names():
        lines += [
            f"FROM exporter AS {stage_name(name)}",
            "ARG MODELS",
            "ARG FORMATS",
            "ARG REQUIRE",
            "RUN --mount=type=cache,target=/var/cache/inductor TORCHINDUCTOR_CACHE_DIR=/var/cache/inductor \\",
            f"    python -m exporters export $MODELS --stage {name} --out /out \\",
            "      $(for f in $FORMATS; do printf -- '--format %s ' \"$f\"; done) \\",
            "      $(for f in $REQUIRE; do printf -- '--require %s ' \"$f\"; done)",
            "",
        ]
    lines += ["FROM exporter AS no-export", "RUN mkdir /out", ""]
    lines += [f"FROM ${{STAGE_{name}}} AS {stage_name(name, 'part')}" for name in format_names()]
    lines += ["", "# Every format's tree merged into the native layout (artifacts/MODEL/{manifest.json,golden,FORMAT}).",
              "FROM exporter AS artifacts-merge"]
    lines += [f"COPY --from={stage_name(name, 'part')} /out /parts/{name}" for name in format_names()]
    return lines + ["RUN python -m exporters merge $(find /parts -mindepth 1 -maxdepth 1 ! -empty) --out /artifacts"]


def docker_formats() -> list[str]:
    """docker.mk's formats: each export stage's make target (docker-<stage>) and its STAGE_<format> argument."""
    return ["# The export stages (make docker-<stage>) and the formats their STAGE_<format> arguments name.",
            f"DOCKER_FORMATS := {' '.join(stage_name(name).removeprefix('export-') for name in format_names())}",
            f"STAGE_FORMATS  := {' '.join(format_names())}"]


def runtime_image() -> list[str]:
    """The jvm-runtime image's harness: what the Maven artifacts of IMAGE_ENGINES resolve to (runtime_image_formats)."""
    return ["COPY --from=jvm-harness /deploy/lib/ /opt/harness/lib/",
            "# What a service depending on org.exportpipeline:jvm-harness-ENGINE for each of these engines gets, natives",
            "# included (SelfCheck runs one JVM per engine).",
            'ENV CLASSPATH="/opt/harness/lib/*"']


def service_environment() -> list[str]:
    """What only the environment can set for a JVM serving the engines (runtimes.SERVICE_ENV)."""
    return ["# What no Java code can set for its own process (jvm_harness/runtimes.py SERVICE_ENV says why).",
            "ENV " + " ".join(f"{name}={value}" for name, value in SERVICE_ENV.items())]


def runtime_image_formats() -> list[str]:
    """The artifacts the jvm-runtime image carries: the formats IMAGE_ENGINES' runners serve, as this build lists them."""
    engines = " || ".join(f'$3 == "{name}"' for name in IMAGE_ENGINES)
    return ["# What the deployment image carries: the formats its engines' runners serve (SelfCheck --list-runners),",
            "# with manifests that list only those.",
            'RUN formats=$(java -cp "$(python -m jvm_harness classpath)" org.exportpipeline.harness.tools.SelfCheck --list-runners \\',
            f"      | awk '{engines} {{printf \"--format %s \", $1}}') \\",
            ' && [ -n "$formats" ] && python -m exporters merge /artifacts $formats --out /deploy/artifacts',
            "# Its jars: what those engines' Maven artifacts resolve to (installed from this build first).",
            f"RUN --mount=type=cache,target=/root/.m2 python -m jvm_harness resolve {' '.join(IMAGE_ENGINES)} --out /deploy/lib"]
