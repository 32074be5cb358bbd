"""One Maven dependency per engine: `org.exportpipeline:jvm-harness-ENGINE:0.1.0` is the engine's runners with a pom
that depends on the core, on everything the engine needs at run time (its pinned runtime jars, their binding) and,
for an engine whose runtime comes from a wheel, on its natives jar (natives.py); `jvm-harness-bom` pins them all.
Generated from the engine registry (runtimes.ENGINES) and installed by `make jvm-install` (`python -m jvm_harness
install`): the classes are those `mvn package` built into target/jvm-harness-ENGINE.jar.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from . import natives, runtimes
from .render import dependency

GROUP, VERSION, CORE = "org.exportpipeline", natives.VERSION, "jvm-harness"
HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n<project xmlns="http://maven.apache.org/POM/4.0.0" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:schemaLocation="http://maven.apache.org/POM/4.0.0 https://maven.apache.org/xsd/maven-4.0.0.xsd">\n'
        '  <modelVersion>4.0.0</modelVersion>\n')


def artifact(engine: str) -> str:
    return f"{CORE}-{engine}"


def natives_artifact(engine: str) -> str:
    return f"{CORE}-{engine}-natives"


def coordinates(engine: str) -> list[str]:
    """group:artifact:version[:jar:classifier] of everything the engine needs beside the core, in the pom's order."""
    found = list(runtimes.ENGINES[engine].jars())
    if runtimes.ENGINES[engine].native:
        found.append(f"{GROUP}:{natives_artifact(engine)}:{VERSION}:jar:{natives.PLATFORM}")
    return found


def _dependencies(coords: list[str], indent: str) -> str:
    return "".join(f"{indent}{line}\n" for coordinate in coords for line in dependency(coordinate, optional=False))


def engine_pom(engine: str) -> str:
    served = ", ".join(runtimes.RUNTIMES[engine])
    deps = _dependencies([f"{GROUP}:{CORE}:{VERSION}", *coordinates(engine)], "    ")
    return (HEAD + f"  <groupId>{GROUP}</groupId>\n  <artifactId>{artifact(engine)}</artifactId>\n  <version>{VERSION}</version>\n"
            f"  <description>The {engine} engine's runners with everything they need at run time. Runtime versions proven: "
            f"{served} (jvm_harness/runtimes.py).</description>\n"
            f"  <dependencies>\n{deps}  </dependencies>\n</project>\n")


def bom_pom() -> str:
    managed = dict.fromkeys([f"{GROUP}:{CORE}:{VERSION}", *(c for engine in runtimes.ENGINES
                                                             for c in [f"{GROUP}:{artifact(engine)}:{VERSION}", *coordinates(engine)])])
    deps = _dependencies(list(managed), "      ")
    return (HEAD + f"  <groupId>{GROUP}</groupId>\n  <artifactId>{CORE}-bom</artifactId>\n  <version>{VERSION}</version>\n"
            "  <packaging>pom</packaging>\n"
            "  <description>Pins the harness, each engine artifact and the runtime versions they were proven with.</description>\n"
            f"  <dependencyManagement>\n    <dependencies>\n{deps}    </dependencies>\n  </dependencyManagement>\n</project>\n")


def write_poms(target: Path) -> dict[str, Path]:
    """target/poms/ARTIFACT.pom for every engine and the BOM."""
    folder = target / "poms"
    folder.mkdir(parents=True, exist_ok=True)
    poms = {artifact(engine): engine_pom(engine) for engine in runtimes.ENGINES} | {f"{CORE}-bom": bom_pom()}
    written = {}
    for name, text in poms.items():
        (folder / f"{name}.pom").write_text(text)
        written[name] = folder / f"{name}.pom"
    return written


def _mvn(args: list[str], what: str) -> None:
    """Runs Maven quietly; a failure is one line naming what failed and Maven's first error."""
    done = subprocess.run(["mvn", "-q", "-B", "-ntp", *args], capture_output=True, text=True)
    if done.returncode != 0:
        last = [line for line in done.stdout.splitlines() if "ERROR" in line][:1] or [done.stderr.strip()[-300:]]
        raise RuntimeError(f"{what} failed: {last[0]}")


def install(target: Path, repo: Path | None = None) -> list[str]:
    """Installs the core, each engine artifact, each natives jar and the BOM into the local Maven repository (or
    repo). Returns the files installed."""
    poms = write_poms(target)
    local = [f"-Dmaven.repo.local={repo}"] if repo else []
    calls = [[f"-Dfile={target / 'jvm-harness.jar'}", f"-DpomFile={target.parent / 'pom.xml'}"],
             [f"-Dfile={poms[f'{CORE}-bom']}", f"-DpomFile={poms[f'{CORE}-bom']}"]]
    for engine in runtimes.ENGINES:
        calls.append([f"-Dfile={target / f'jvm-harness-{engine}.jar'}", f"-DpomFile={poms[artifact(engine)]}"])
        if runtimes.ENGINES[engine].native:
            calls.append([f"-Dfile={target / 'lib' / engine / natives.jar_name(engine)}", f"-DgroupId={GROUP}",
                          f"-DartifactId={natives_artifact(engine)}", f"-Dversion={VERSION}", f"-Dclassifier={natives.PLATFORM}",
                          "-Dpackaging=jar", "-DgeneratePom=true"])
    for args in calls:
        _mvn(["org.apache.maven.plugins:maven-install-plugin:3.1.3:install-file", *local, *args], f"installing {args[0]}")
    return [args[0].removeprefix("-Dfile=") for args in calls]


def resolve(engines: list[str], out: Path) -> list[Path]:
    """The jars a service depending on these engines' artifacts gets (resolved by Maven from the local repository,
    where install() put them) copied into out: what a deployment image carries."""
    unknown = [name for name in engines if name not in runtimes.ENGINES]
    if unknown:
        raise RuntimeError(f"unknown JVM engine {', '.join(unknown)}: choose from {', '.join(runtimes.ENGINES)}")
    out.mkdir(parents=True, exist_ok=True)
    pom = out / ".service.pom.xml"
    deps = _dependencies([f"{GROUP}:{artifact(name)}:{VERSION}" for name in engines], "    ")
    pom.write_text(HEAD + f"  <groupId>{GROUP}</groupId>\n  <artifactId>deployment</artifactId>\n  <version>0</version>\n"
                   f"  <dependencies>\n{deps}  </dependencies>\n</project>\n")
    try:
        _mvn(["-f", str(pom), "dependency:copy-dependencies", "-DincludeScope=runtime", f"-DoutputDirectory={out}"],
             f"resolving {', '.join(map(artifact, engines))}")
    finally:
        pom.unlink()
    return sorted(out.glob("*.jar"))
