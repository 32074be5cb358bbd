"""The engine registry (jvm_harness/runtimes.py ENGINES) is the one list of JVM engines: pom.xml's engine sections
and the runtime image's are rendered from it, and the Python side reads its engines from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import ROOT, run_cli
from jvm_harness import jvm, render
from jvm_harness.runtimes import ENGINES

HARNESS = ROOT / "jvm_harness"


def test_pom_and_dockerfile_follow_the_engine_registry() -> None:
    result = run_cli("jvm_harness", "render", "--check")
    assert result.returncode == 0, result.stderr
    pom = render.POM.read_text()
    for name, engine in ENGINES.items():
        assert f"<classifier>{name}</classifier>" in pom
        assert f"<exclude>org/exportpipeline/harness/{engine.package}/**</exclude>" in pom
        for coordinate in engine.jars():
            assert f"<version>{coordinate.split(':')[2]}</version>" in pom


@pytest.mark.parametrize("name", list(ENGINES))
def test_each_engine_has_its_runner_package_and_services_file(name: str) -> None:
    services = HARNESS / "src" / "engines" / name / "META-INF" / "services" / "org.exportpipeline.harness.Runner"
    package = f"org.exportpipeline.harness.{ENGINES[name].package}."
    runners = services.read_text().split()
    assert runners and all(runner.startswith(package) for runner in runners), runners


def test_a_file_without_its_engine_blocks_is_refused() -> None:
    text = render.POM.read_text()
    with pytest.raises(ValueError, match="needs each of dependencies, staged"):
        render.render(render.POM, text.replace("<!-- >>> engines: libs", "<!-- libs"))


def test_a_stale_section_is_rendered_again() -> None:
    text = render.DOCKERFILE.read_text()
    stale = text.replace("resolve onnxruntime djl-pytorch", "resolve onnxruntime old-engine")
    assert stale != text and render.render(render.DOCKERFILE, stale) == text


def test_only_registered_engines_count_as_built(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for jar in ("jvm-harness-onnxruntime.jar", "jvm-harness-retired.jar"):
        (tmp_path / jar).touch()
    monkeypatch.setattr(jvm, "TARGET", tmp_path)
    assert jvm.engines() == ["onnxruntime"]
