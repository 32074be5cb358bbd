"""pom.xml's engine sections and docker/Dockerfile's runtime image, rendered from the engine registry.

Maven and Dockerfiles cannot loop, so each per-engine section is written from runtimes.ENGINES between
two marker lines (`>>> engines: NAME` and `<<< engines`); `python -m jvm_harness render` rewrites them
and `--check` (run by the tests) fails when an engine was added or changed without rendering again.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable

from . import natives
from .runtimes import ENGINES

ROOT = Path(__file__).resolve().parents[1]
POM = ROOT / "jvm_harness" / "pom.xml"
DOCKERFILE = ROOT / "docker" / "Dockerfile"
# The engines the jvm-runtime image carries; its artifacts are the formats their runners serve (onnx, torchscript).
IMAGE_ENGINES = ("onnxruntime", "djl-pytorch")
PACKAGES = "org/exportpipeline/harness"
BLOCK = re.compile(r"^(?P<indent>[ \t]*)(?:<!--|#) >>> engines: (?P<name>[\w-]+)\b[^\n]*\n(?P<body>.*?)"
                   r"^(?P=indent)(?:<!--|#) <<< engines[^\n]*$", re.MULTILINE | re.DOTALL)


def dependency(coordinate: str, optional: bool = True) -> list[str]:
    """A <dependency> element's lines for group:artifact:version[:jar:classifier]."""
    group, artifact, version, *rest = coordinate.split(":")
    classifier = [f"  <classifier>{rest[1]}</classifier>"] if len(rest) == 2 else []
    return ["<dependency>", f"  <groupId>{group}</groupId>", f"  <artifactId>{artifact}</artifactId>",
            f"  <version>{version}</version>", *classifier, *(["  <optional>true</optional>"] if optional else []), "</dependency>"]


def dependencies() -> list[str]:
    """Each engine's pinned jars, optional: a service adds the one engine it runs."""
    coordinates = dict.fromkeys(c for engine in ENGINES.values() for c in engine.jars())
    return [line for coordinate in coordinates for line in dependency(coordinate)]


def staged() -> list[str]:
    """One copy per engine of its classes and its services file, the contents of its jar."""
    lines = []
    for name, engine in ENGINES.items():
        lines += ["<execution>", f"  <id>engine-{name}</id>", "  <phase>prepare-package</phase>",
                  "  <goals><goal>copy-resources</goal></goals>", "  <configuration>",
                  f"    <outputDirectory>${{project.build.directory}}/engines/{name}</outputDirectory>", "    <resources>",
                  "      <resource>", "        <directory>${project.build.outputDirectory}</directory>",
                  f"        <includes><include>{PACKAGES}/{engine.package}/**</include></includes>", "      </resource>",
                  f"      <resource><directory>src/engines/{name}</directory></resource>", "    </resources>",
                  "  </configuration>", "</execution>"]
    return lines


def core_excludes() -> list[str]:
    return [f"<exclude>{PACKAGES}/{engine.package}/**</exclude>" for engine in ENGINES.values()]


def jars() -> list[str]:
    lines = []
    for name in ENGINES:
        lines += ["<execution>", f"  <id>engine-{name}</id>", "  <goals><goal>jar</goal></goals>", "  <configuration>",
                  f"    <classifier>{name}</classifier>",
                  f"    <classesDirectory>${{project.build.directory}}/engines/{name}</classesDirectory>",
                  '    <excludes combine.self="override"/>', "  </configuration>", "</execution>"]
    return lines


def test_services() -> list[str]:
    """Each engine's services file, and the natives jar of an engine whose runtime comes from a wheel (`make jvm`)."""
    lines = [f"<additionalClasspathElement>${{project.basedir}}/src/engines/{name}</additionalClasspathElement>"
             for name in ENGINES]
    return lines + [f"<additionalClasspathElement>${{project.build.directory}}/lib/{name}/{natives.jar_name(name)}"
                    "</additionalClasspathElement>" for name in natives.engines()]


def libs() -> list[str]:
    """target/lib/ENGINE for each engine with jars of its own."""
    lines = []
    for name, engine in ENGINES.items():
        if engine.groups():
            lines += ["<execution>", f"  <id>lib-{name}</id>", "  <phase>package</phase>",
                      "  <goals><goal>copy-dependencies</goal></goals>", "  <configuration>",
                      "    <includeScope>runtime</includeScope>",
                      f"    <includeGroupIds>{','.join(engine.groups())}</includeGroupIds>",
                      f"    <outputDirectory>${{project.build.directory}}/lib/{name}</outputDirectory>",
                      "  </configuration>", "</execution>"]
    return lines


def runtime_image() -> list[str]:
    """The jvm-runtime image's harness: what the Maven artifacts of IMAGE_ENGINES resolve to (runtime_image_formats)."""
    return ["COPY --from=jvm-harness /deploy/lib/ /opt/harness/lib/",
            "# What a service depending on org.exportpipeline:jvm-harness-ENGINE for each of these engines gets, natives",
            "# included (SelfCheck runs one JVM per engine).",
            'ENV CLASSPATH="/opt/harness/lib/*"']


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


BLOCKS: dict[Path, dict[str, Callable[[], list[str]]]] = {
    POM: {"dependencies": dependencies, "staged": staged, "core-excludes": core_excludes, "jars": jars,
          "test-services": test_services, "libs": libs},
    DOCKERFILE: {"runtime-image-formats": runtime_image_formats, "runtime-image": runtime_image},
}


def render(path: Path, text: str) -> str:
    """The file's text with each engine block's body rendered again (marker lines kept, each body at its indent)."""
    blocks = BLOCKS[path]
    found = [match["name"] for match in BLOCK.finditer(text)]
    if sorted(found) != sorted(blocks):
        raise ValueError(f"{path} has engine blocks {', '.join(found) or 'none'}; it needs each of {', '.join(blocks)} once")

    def body(match: re.Match[str]) -> str:
        lines = "".join(f"{match['indent']}{line}\n" if line else "\n" for line in blocks[match["name"]]())
        start, end = (at - match.start() for at in match.span("body"))
        return match.group(0)[:start] + lines + match.group(0)[end:]

    return BLOCK.sub(body, text)
