package org.exportpipeline.harness.ort;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.exportpipeline.harness.Manifest;
import org.exportpipeline.harness.RunnerChecks;
import org.junit.jupiter.api.Test;

class OrtRunnerTest {

  @Test
  void servesFourCallersFromOneSession() throws Exception {
    Manifest mlp = RunnerChecks.model("mlp");
    try (OrtRunner runner = new OrtRunner()) {
      assertTrue(runner.threads(1).isPresent());
      runner.open(mlp.formatDir("onnx"), mlp);
      assertTrue(runner.outputsPinned(), "mlp's output dims are named like its input's: ORT writes into our buffers");
      RunnerChecks.concurrentCallersAgree(runner, mlp);
      RunnerChecks.wrongShapeRaises(runner, mlp);
      RunnerChecks.stillRuns(runner, mlp);
    }
    try (OrtRunner pinned = new OrtRunner()) {
      assertTrue(RunnerChecks.goldenParity(pinned, mlp).passed(), "pinned outputs pass the golden cases");
    }
    RunnerChecks.lifeCycleIsGuarded(new OrtRunner(), mlp);
  }
}
