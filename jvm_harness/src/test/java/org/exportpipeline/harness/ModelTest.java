package org.exportpipeline.harness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.exportpipeline.harness.contract.ContractException;
import org.exportpipeline.harness.contract.Folders;
import org.exportpipeline.harness.contract.Manifest;
import org.exportpipeline.harness.contract.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The entry point a service embeds, on the exported mlp through ONNX Runtime, from several threads. */
class ModelTest {
  @TempDir Path tmp;

  @Test
  void fourThreadsShareOneModelAndGetTheirOwnAnswers() throws Exception {
    Manifest mlp = RunnerChecks.model("mlp");
    String pin = Folders.sha256(Files.readAllBytes(mlp.modelDir().resolve(Manifest.FILE)));
    List<Manifest.GoldenCase> cases = mlp.goldenCases();
    try (Model model = Model.open(mlp.modelDir(), "onnx", Model.Options.builder().runtime("onnxruntime-java").manifestSha256(pin).intraOpThreads(1).maxConcurrentCalls(2).build())) {
      assertEquals("onnxruntime-java", model.runtime());
      List<Map<String, Tensor>> answers = new ArrayList<>();
      for (Manifest.GoldenCase goldenCase : cases) {
        answers.add(model.run(goldenCase.inputs()));
      }
      AtomicInteger calls = new AtomicInteger();
      AtomicInteger wrong = new AtomicInteger();
      List<Thread> threads = new ArrayList<>();
      for (int caller = 0; caller < 4; caller++) {
        int offset = caller;
        Thread thread = new Thread(() -> {
          for (int k = 0; k < 25; k++) {
            int index = (offset + k) % cases.size();
            try {
              Map<String, Tensor> got = model.run(cases.get(index).inputs());
              boolean same = got.get("y").data().equals(answers.get(index).get("y").data());
              (same ? calls : wrong).incrementAndGet();
            } catch (Exception e) {
              wrong.incrementAndGet();
            }
          }
        });
        thread.start();
        threads.add(thread);
      }
      for (Thread thread : threads) {
        thread.join();
      }
      assertEquals(100, calls.get());
      assertEquals(0, wrong.get());
      Map<String, Tensor> missing = new LinkedHashMap<>();
      assertTrue(assertThrows(InvalidInputException.class, () -> model.run(missing)).getMessage().contains("is missing"));
    }
  }

  @Test
  void aShapeOutsideTheBoxIsRefusedBeforeItsBufferExistsAndCallsAfterCloseAreRefusedAsClosed() throws Exception {
    Manifest mlp = RunnerChecks.model("mlp");
    Model model = Model.open(mlp.modelDir(), "onnx", Model.Options.defaults());
    assertEquals("1.29.0", model.version());
    InvalidInputException huge = assertThrows(InvalidInputException.class, () -> model.newInput("x", 100_000, 10)); // 4 MB never allocated
    assertEquals("input x has shape [100000, 10] but the model was exported for [1..64, 10]: pass a shape within those bounds", huge.getMessage());
    assertTrue(assertThrows(InvalidInputException.class, () -> model.newInput("ids", 1)).getMessage().startsWith("input ids is not an input"));
    Tensor x = model.newInput("x", 3, 10);
    assertEquals(Tensor.DType.FLOAT32, x.dtype());
    assertEquals(List.of("y"), List.copyOf(model.run(Map.of("x", x)).keySet()));
    model.close();
    ModelUnavailableException closed = assertThrows(ModelUnavailableException.class, () -> model.run(Map.of("x", x)));
    assertEquals(ModelUnavailableException.Reason.CLOSED, closed.reason());
  }

  @Test
  void aCallThatFindsNoSlotInTheAdmissionWaitIsRefusedAsOverloaded() throws Exception {
    Manifest mlp = RunnerChecks.model("mlp");
    Model.Options one = Model.Options.builder().maxConcurrentCalls(1).admissionWait(java.time.Duration.ZERO).build();
    try (Model model = Model.open(mlp.modelDir(), "onnx", one)) {
      Map<String, Tensor> large = mlp.goldenCases().get(mlp.goldenCases().size() - 1).inputs();
      AtomicInteger overloaded = new AtomicInteger();
      List<Thread> callers = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        Thread caller = new Thread(() -> {
          for (int k = 0; k < 200; k++) {
            try {
              model.run(large);
            } catch (ModelUnavailableException e) {
              if (e.reason() == ModelUnavailableException.Reason.OVERLOADED && e.getMessage().contains("no call slot came free")) {
                overloaded.incrementAndGet();
              }
            } catch (ModelException e) {
              throw new AssertionError(e);
            }
          }
        });
        caller.start();
        callers.add(caller);
      }
      for (Thread caller : callers) {
        caller.join();
      }
      assertTrue(overloaded.get() > 0, "four callers on one slot with no wait were never refused");
    }
  }

  @Test
  void refusesAWrongPinAnUnexportedFormatAndAnAlteredFileBeforeAnyRuntimeOpens() throws Exception {
    Path mlp = RunnerChecks.model("mlp").modelDir();
    Model.Options pinned = Model.Options.builder().manifestSha256("0".repeat(64)).build();
    assertTrue(assertThrows(ContractException.class, () -> Model.open(mlp, "onnx", pinned)).getMessage().contains("pinned"));
    assertThrows(IllegalArgumentException.class, () -> Model.open(mlp, "onnx", Model.Options.builder().runtime("no-such-runtime").build()));
    assertThrows(ContractException.class, () -> Model.open(mlp, "tflite", Model.Options.defaults()));
    Path copy = tmp.resolve("mlp");
    Folders.copyTree(mlp, copy);
    Files.write(copy.resolve("onnx/model.onnx"), new byte[] {0}, StandardOpenOption.APPEND);
    assertTrue(assertThrows(ContractException.class, () -> Model.open(copy, "onnx", Model.Options.defaults()))
        .getMessage().contains("onnx/model.onnx is altered"));
    assertThrows(IllegalArgumentException.class, () -> Model.Options.builder().maxConcurrentCalls(0));
  }
}
