"""The rendered blocks of pom.xml, docker/Dockerfile and docker.mk, and the manifest schema's settings names:
written from the engine registry (runtimes.ENGINES) and the format registry (exporters.formats.FORMATS).

Maven, Dockerfiles and make cannot loop over a registry, so each such block is written between two marker
lines naming its registry (`>>> engines: NAME` ... `<<< engines`, `>>> formats: NAME` ... `<<< formats`);
`python -m jvm_harness render` rewrites them and `--check` (run by the tests) fails when an engine or a
format was added or changed without rendering again. The pom's blocks are here, the Docker ones in dockerfile.py.
JSON has no comments for markers: the schema's one `"propertyNames": {"enum": [...]}` line, in $defs.settings,
is rendered in place (the names a manifest may make a Java runner set are those the formats declare).
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Callable

from . import dockerfile, natives
from .runtimes import ENGINES

ROOT = Path(__file__).resolve().parents[1]
POM = ROOT / "jvm_harness" / "pom.xml"
DOCKERFILE = ROOT / "docker" / "Dockerfile"
DOCKER_MK = ROOT / "docker.mk"
SCHEMA = ROOT / "exporters" / "contract" / "manifest.schema.json"
SETTINGS_NAMES = re.compile(r'^(?P<indent>[ ]*)"propertyNames": \{"enum": \[[^\]\n]*\]\},$', re.MULTILINE)
PACKAGES = "org/exportpipeline/harness"
BLOCK = re.compile(r"^(?P<indent>[ \t]*)(?:<!--|#) >>> (?P<registry>engines|formats): (?P<name>[\w-]+)\b[^\n]*\n(?P<body>.*?)"
                   r"^(?P=indent)(?:<!--|#) <<< (?P=registry)[^\n]*$", re.MULTILINE | re.DOTALL)


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


BLOCKS: dict[Path, dict[str, Callable[[], list[str]]]] = {
    POM: {"dependencies": dependencies, "staged": staged, "core-excludes": core_excludes, "jars": jars,
          "test-services": test_services, "libs": libs},
    DOCKERFILE: {"stage-args": dockerfile.stage_args, "export-stages": dockerfile.export_stages,
                 "runtime-image-formats": dockerfile.runtime_image_formats, "runtime-image": dockerfile.runtime_image,
                 "service-env": dockerfile.service_environment, "service-env-formats": dockerfile.service_environment},
    DOCKER_MK: {"docker-formats": dockerfile.docker_formats},
}


def render(path: Path, text: str) -> str:
    """The file's text with each block's body rendered again (marker lines kept, each body at its indent)."""
    blocks = BLOCKS[path]
    found = [match["name"] for match in BLOCK.finditer(text)]
    if sorted(found) != sorted(blocks):
        raise ValueError(f"{path} has rendered blocks {', '.join(found) or 'none'}; it needs each of {', '.join(blocks)} once")

    def body(match: re.Match[str]) -> str:
        lines = "".join(f"{match['indent']}{line}\n" if line else "\n" for line in blocks[match["name"]]())
        start, end = (at - match.start() for at in match.span("body"))
        return match.group(0)[:start] + lines + match.group(0)[end:]

    return BLOCK.sub(body, text)


def schema(text: str) -> str:
    """The schema with $defs.settings' allowed names rendered from the formats' settings, sorted."""
    names = sorted({name for fmt in dockerfile.formats() for name in fmt["settings"]})
    if len(SETTINGS_NAMES.findall(text)) != 1:
        raise ValueError(f'{SCHEMA} needs one line \'"propertyNames": {{"enum": [...]}},\' (in $defs.settings) to render')
    rendered = SETTINGS_NAMES.sub(lambda match: f'{match["indent"]}"propertyNames": {{"enum": {json.dumps(names)}}},', text)
    if json.loads(rendered)["$defs"]["settings"]["propertyNames"]["enum"] != names:
        raise ValueError(f"{SCHEMA}'s propertyNames line is not the one in $defs.settings")
    return rendered


# Each rendered file and what renders it.
RENDERED: dict[Path, Callable[[str], str]] = {**{path: functools.partial(render, path) for path in BLOCKS}, SCHEMA: schema}
