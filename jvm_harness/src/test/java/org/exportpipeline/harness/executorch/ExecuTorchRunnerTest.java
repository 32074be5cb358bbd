package org.exportpipeline.harness.executorch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.exportpipeline.harness.Manifest;
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
  void servesFourCallersFromAPoolOfModules() throws Exception {
    Manifest mlp = RunnerChecks.model("mlp");
    try (ExecuTorchRunner runner = new ExecuTorchRunner()) {
      assertTrue(runner.threads(1).isPresent());
      runner.open(mlp.formatDir("executorch"), mlp);
      RunnerChecks.concurrentCallersAgree(runner, mlp);
    }
    RunnerChecks.lifeCycleIsGuarded(new ExecuTorchRunner(), mlp);
  }
}
