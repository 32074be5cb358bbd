package org.exportpipeline.harness.executorch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.exportpipeline.harness.Manifest;
import org.exportpipeline.harness.Pool;
import org.exportpipeline.harness.RunnerChecks;
import org.junit.jupiter.api.Test;

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
}
