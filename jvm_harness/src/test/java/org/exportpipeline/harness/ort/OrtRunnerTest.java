package org.exportpipeline.harness.ort;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import org.exportpipeline.harness.contract.Manifest;
import org.exportpipeline.harness.RunnerChecks;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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

  @Test
  void opensTheFileTheManifestNamesMain(@TempDir Path tmp) throws Exception {
    Manifest renamed = RunnerChecks.edited("mlp", tmp, json -> {
      JsonObject onnx = json.getAsJsonObject("formats").getAsJsonObject("onnx");
      onnx.addProperty("main", "renamed.onnx");
      onnx.getAsJsonArray("files").forEach(f -> {
        if (f.getAsJsonObject().get("path").getAsString().equals("onnx/model.onnx")) {
          f.getAsJsonObject().addProperty("path", "onnx/renamed.onnx");
        }
      });
    });
    Files.move(renamed.formatDir("onnx").resolve("model.onnx"), renamed.formatDir("onnx").resolve("renamed.onnx"));
    try (OrtRunner runner = new OrtRunner()) {
      assertTrue(RunnerChecks.goldenParity(runner, renamed).passed(), "the renamed main file was not the one opened");
    }
  }
}
