package org.exportpipeline.harness.libtorch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.exportpipeline.harness.Manifest;
import org.exportpipeline.harness.Pool;
import org.exportpipeline.harness.RunnerChecks;
import org.junit.jupiter.api.Test;

/** AOTI and TorchScript on JavaCPP's libtorch 2.13 (one engine, one JVM). */
class LibTorchRunnersTest {

  @Test
  void aotiMatchesGoldenOutputsAndRefusesAWrongShape() throws Exception {
    Manifest mlp = RunnerChecks.model("mlp");
    try (AotiRunner runner = new AotiRunner()) {
      assertTrue(runner.version().startsWith("libtorch 2.13.0"), runner.version());
      assertTrue(RunnerChecks.goldenParity(runner, mlp).maxAbsErr() <= 1e-5);
      RunnerChecks.wrongShapeRaises(runner, mlp);
      RunnerChecks.stillRuns(runner, mlp);
    }
  }

  @Test
  void aotiUnpacksIntoAPrivateFolderThatCloseRemoves() throws Exception {
    Manifest mlp = RunnerChecks.model("mlp");
    String tmpdir = System.getenv("TMPDIR");
    AotiRunner runner = new AotiRunner();
    runner.open(mlp.formatDir("aoti"), mlp);
    Path unpacked = runner.unpackDir();
    try (Stream<Path> files = Files.walk(unpacked)) {
      assertTrue(files.anyMatch(p -> p.toString().endsWith(".so")), "no model library under " + unpacked);
    }
    runner.close();
    assertTrue(Files.notExists(unpacked), "close() left " + unpacked);
    assertEquals(tmpdir, System.getenv("TMPDIR"));
  }

  @Test
  void torchScriptMatchesGoldenOutputsAndRefusesAWrongShape() throws Exception {
    Manifest mlp = RunnerChecks.model("mlp");
    try (LibTorchScriptRunner runner = new LibTorchScriptRunner()) {
      assertEquals("libtorch-javacpp", runner.engine());
      assertTrue(RunnerChecks.goldenParity(runner, mlp).maxAbsErr() <= 1e-5);
      RunnerChecks.wrongShapeRaises(runner, mlp);
      RunnerChecks.stillRuns(runner, mlp);
    }
  }

  @Test
  void aotiServesFourCallersFromItsRunners() throws Exception {
    Manifest mlp = RunnerChecks.model("mlp");
    try (AotiRunner runner = new AotiRunner()) {
      runner.open(mlp.formatDir("aoti"), mlp);
      assertEquals(1, runner.runners()); // every core per call: calls take turns
      RunnerChecks.concurrentCallersAgree(runner, mlp);
    }
    try (AotiRunner runner = new AotiRunner()) {
      runner.threads(1);
      runner.open(mlp.formatDir("aoti"), mlp);
      assertEquals(Pool.defaultSize(), runner.runners());
      RunnerChecks.concurrentCallersAgree(runner, mlp);
    }
    RunnerChecks.lifeCycleIsGuarded(new AotiRunner(), mlp);
  }

  @Test
  void torchScriptServesFourCallersWithTheThreadsItWasGiven() throws Exception {
    Manifest mlp = RunnerChecks.model("mlp");
    try (LibTorchScriptRunner runner = new LibTorchScriptRunner()) {
      assertTrue(runner.threads(1).isPresent());
      runner.open(mlp.formatDir("torchscript"), mlp);
      RunnerChecks.concurrentCallersAgree(runner, mlp);
      assertEquals(1, org.bytedeco.pytorch.global.torch.get_num_threads()); // set on this thread by its last call
    }
    RunnerChecks.lifeCycleIsGuarded(new LibTorchScriptRunner(), mlp);
  }
}
