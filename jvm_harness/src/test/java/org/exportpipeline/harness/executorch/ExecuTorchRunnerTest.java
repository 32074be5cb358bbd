package org.exportpipeline.harness.executorch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonPrimitive;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.exportpipeline.harness.contract.Manifest;
import org.exportpipeline.harness.Pool;
import org.exportpipeline.harness.RunnerChecks;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExecuTorchRunnerTest {

  @Test
  void matchesGoldenOutputsAndRefusesAWrongShape() throws Exception {
    Manifest mlp = RunnerChecks.model("mlp");
    try (ExecuTorchRunner runner = new ExecuTorchRunner()) {
      // The runtime that ran it, not the exporter's executorch (1.4.1): the manifest records this.
      assertEquals("executorch 1.5.1", runner.version());
      assertTrue(RunnerChecks.goldenParity(runner, mlp).maxAbsErr() <= 1e-5);
      RunnerChecks.wrongShapeRaises(runner, mlp);
      RunnerChecks.stillRuns(runner, mlp);
    }
  }

  @Test
  void servesFourCallersFromOneModulePerCallCore() throws Exception {
    Manifest mlp = RunnerChecks.model("mlp");
    try (ExecuTorchRunner runner = new ExecuTorchRunner()) {
      assertTrue(runner.threads(1).isPresent());
      runner.open(mlp.formatDir("executorch"), mlp);
      assertEquals(Pool.defaultSize(), runner.moduleLimit()); // one core per call: one Module per core
      RunnerChecks.concurrentCallersAgree(runner, mlp);
    }
    try (ExecuTorchRunner runner = new ExecuTorchRunner()) {
      assertTrue(runner.threads(Pool.defaultSize()).isPresent());
      runner.open(mlp.formatDir("executorch"), mlp);
      assertEquals(1, runner.moduleLimit()); // every core per call: the pool is a lock
      RunnerChecks.concurrentCallersAgree(runner, mlp);
    }
    RunnerChecks.lifeCycleIsGuarded(new ExecuTorchRunner(), mlp);
  }

  /** The one-line refusal of a program the runtime does not read, and the runtime's own refusal of such a file. */
  @Test
  void refusesAProgramVersionItsRuntimeDoesNotRead(@TempDir Path tmp) throws Exception {
    String refusal = RunnerChecks.refusedForNeeds(new ExecuTorchRunner(), tmp.resolve("needs"), "pte_file_identifier", new JsonPrimitive("ET13"));
    assertEquals("model.pte needs ExecuTorch program version ET13; ExecuTorch 1.5.1 reads ET12 only: export with an executorch"
        + " whose programs this runtime reads, or move the runtime to that release", refusal);
    Exception error = RunnerChecks.runtimeOpening(new ExecuTorchRunner(), tmp.resolve("file"), "model.pte", bytes -> {
      System.arraycopy("ET13".getBytes(StandardCharsets.US_ASCII), 0, bytes, 4, 4); // the flatbuffer file identifier
      return bytes;
    });
    assertInstanceOf(IllegalStateException.class, error); // the runtime's clean refusal (InvalidProgram), not a crash
    assertTrue(error.getMessage().contains("InvalidProgram"), error.getMessage());
  }
}
