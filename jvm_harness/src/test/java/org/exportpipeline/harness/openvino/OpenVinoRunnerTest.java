package org.exportpipeline.harness.openvino;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.exportpipeline.harness.contract.Manifest;
import org.exportpipeline.harness.Pool;
import org.exportpipeline.harness.RunnerChecks;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OpenVinoRunnerTest {

  @Test
  void matchesGoldenOutputsAndRefusesAWrongShape() throws Exception {
    Manifest mlp = RunnerChecks.model("mlp");
    try (OpenVinoRunner runner = new OpenVinoRunner()) {
      assertTrue(runner.version().startsWith("openvino 2026.4.1"), runner.version());
      assertTrue(RunnerChecks.goldenParity(runner, mlp).maxAbsErr() <= 1e-5);
      RunnerChecks.wrongShapeRaises(runner, mlp);
      RunnerChecks.stillRuns(runner, mlp);
    }
  }

  @Test
  void compilesWithTheManifestsSettings(@TempDir Path tmp) throws Exception {
    Manifest odd = RunnerChecks.edited("mlp", tmp, json -> {
      JsonObject settings = new JsonObject();
      settings.addProperty("INFERENCE_PRECISION_HINT", "i3"); // a value OpenVINO refuses: proof it reached the compile
      json.getAsJsonObject("formats").getAsJsonObject("openvino").add("settings", settings);
    });
    try (OpenVinoRunner runner = new OpenVinoRunner()) {
      Exception refused = assertThrows(Exception.class, () -> runner.open(odd.formatDir("openvino"), odd));
      assertTrue(refused.getMessage().contains("INFERENCE_PRECISION_HINT") || refused.getMessage().contains("i3"), refused.getMessage());
    }
  }

  @Test
  void aMissingLibrarySaysWhereItLookedAndWhatToSet(@TempDir Path empty) {
    String previous = System.getProperty(OpenVinoC.LIBRARY_PROPERTY);
    System.setProperty(OpenVinoC.LIBRARY_PROPERTY, empty.toString());
    try {
      IllegalStateException error = assertThrows(IllegalStateException.class, OpenVinoC::load);
      assertTrue(error.getMessage().contains(empty.toString()) && error.getMessage().contains(OpenVinoC.LIBRARY_PROPERTY),
          error.getMessage());
    } finally {
      if (previous == null) {
        System.clearProperty(OpenVinoC.LIBRARY_PROPERTY);
      } else {
        System.setProperty(OpenVinoC.LIBRARY_PROPERTY, previous);
      }
    }
  }

  @Test
  void servesFourCallersFromABoundedPoolOfInferRequests() throws Exception {
    Manifest mlp = RunnerChecks.model("mlp");
    try (OpenVinoRunner runner = new OpenVinoRunner()) {
      assertTrue(runner.threads(1).isPresent());
      runner.open(mlp.formatDir("openvino"), mlp);
      RunnerChecks.concurrentCallersAgree(runner, mlp);
      // Requests are created as calls overlap, never more than the pool's bound (one per core).
      assertTrue(runner.requestCount() >= 1 && runner.requestCount() <= Pool.defaultSize(), "requests: " + runner.requestCount());
    }
    RunnerChecks.lifeCycleIsGuarded(new OpenVinoRunner(), mlp);
  }


  /** The one-line refusal of an IR version the runtime does not read, and the runtime's own refusal of such a file. */
  @Test
  void refusesAnIrVersionItsRuntimeDoesNotRead(@TempDir Path tmp) throws Exception {
    OpenVinoRunner runner = new OpenVinoRunner();
    String build = runner.version().substring("openvino ".length());
    String refusal = RunnerChecks.refusedForNeeds(runner, tmp.resolve("needs"), "openvino_ir_version", new JsonPrimitive(12));
    assertEquals("model.xml needs OpenVINO IR version 12; OpenVINO " + build + " reads up to IR 11: convert with an OpenVINO"
        + " no newer than the service's, or upgrade OpenVINO", refusal);
    Exception error = RunnerChecks.runtimeOpening(new OpenVinoRunner(), tmp.resolve("file"), "model.xml",
        bytes -> new String(bytes, StandardCharsets.UTF_8).replaceFirst("(<net [^>]*version=\")11\"", "$112\"")
            .getBytes(StandardCharsets.UTF_8));
    assertTrue(error.getMessage().contains("Unable to read the model"), error.getMessage());
  }
}
