package org.exportpipeline.harness.djl;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.exportpipeline.harness.contract.Manifest;
import org.exportpipeline.harness.RunnerChecks;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DjlTorchScriptRunnerTest {

  @Test
  void servesFourCallersFromAPoolOfPredictors() throws Exception {
    Manifest mlp = RunnerChecks.model("mlp");
    try (DjlTorchScriptRunner runner = new DjlTorchScriptRunner()) {
      assertTrue(runner.threads(1).isPresent());
      runner.open(mlp.formatDir("torchscript"), mlp);
      RunnerChecks.concurrentCallersAgree(runner, mlp);
      RunnerChecks.wrongShapeRaises(runner, mlp);
      RunnerChecks.stillRuns(runner, mlp);
    }
    RunnerChecks.lifeCycleIsGuarded(new DjlTorchScriptRunner(), mlp);
  }


  @Test
  void refusesAFileVersionItsLibtorchDoesNotRead(@TempDir Path tmp) throws Exception {
    RunnerChecks.refusesTorchScriptBeyondItsLibtorch(DjlTorchScriptRunner::new, tmp, "2.7.1");
  }

  @Test
  void refusesAProgramThatNeedsTorchvisionsOperators(@TempDir Path tmp) throws Exception {
    RunnerChecks.refusesAMissingOperatorLibrary(DjlTorchScriptRunner::new, tmp, DjlTorchScriptRunner.NO_OPERATOR_LIBRARIES);
  }
}
