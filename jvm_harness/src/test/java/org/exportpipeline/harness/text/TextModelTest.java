package org.exportpipeline.harness.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.exportpipeline.harness.InvalidInputException;
import org.exportpipeline.harness.Model;
import org.exportpipeline.harness.ModelUnavailableException;
import org.exportpipeline.harness.RunnerChecks;
import org.exportpipeline.harness.contract.Manifest;
import org.exportpipeline.harness.contract.Tensor;
import org.exportpipeline.harness.contract.TextContract;
import org.junit.jupiter.api.Test;

/**
 * TextModel on a text model exported for the tests (tests/text_models.py bpe_embedder: byte-level BPE, left
 * padding, mean pooling and L2 norm) through ONNX Runtime: strings in, the answers export recorded out, from many
 * threads while the collector runs, and one clear exception for each bad request.
 */
class TextModelTest {
  private static final String MODEL = "bpe_embedder";

  @Test
  void answersAsExportRecordedFromOneCallerAndFromManyUnderGcPressure() throws Exception {
    Manifest manifest = RunnerChecks.model(MODEL);
    TextContract text = manifest.text().orElseThrow();
    TextContract.TextCase recorded = text.cases().get(0);
    List<String> texts = recorded.items().stream().map(item -> item.get(0)).toList();
    try (TextModel model = TextModel.open(manifest.modelDir(), "onnx", Model.Options.defaults())) {
      float[][] single = model.embed(texts);
      assertClose(recorded.reference().get(Postprocess.VECTOR), single, texts.size());
      AtomicInteger calls = new AtomicInteger();
      AtomicReference<Throwable> failed = new AtomicReference<>();
      long until = System.nanoTime() + 8_000_000_000L;
      List<Thread> threads = new ArrayList<>();
      for (int t = 0; t < 6; t++) {
        Thread thread = new Thread(() -> {
          try {
            while (System.nanoTime() < until) {
              assertClose(recorded.reference().get(Postprocess.VECTOR), model.embed(texts), texts.size());
              calls.incrementAndGet();
            }
          } catch (Throwable e) {
            failed.compareAndSet(null, e);
          }
        });
        thread.start();
        threads.add(thread);
      }
      Thread pressure = new Thread(() -> { // garbage and collections while calls are in flight
        while (System.nanoTime() < until) {
          byte[][] churn = new byte[64][];
          for (int i = 0; i < churn.length; i++) {
            churn[i] = new byte[64 << 10];
          }
          System.gc();
        }
      });
      pressure.start();
      for (Thread thread : threads) {
        thread.join();
      }
      pressure.join();
      assertEquals(null, failed.get());
      assertTrue(calls.get() > 20, "only " + calls.get() + " calls in 8 s");
    }
  }

  @Test
  void moreTextsThanTheBatchMaxRunAsSeveralBatchesInOrder() throws Exception {
    Manifest manifest = RunnerChecks.model(MODEL);
    try (TextModel model = TextModel.open(manifest.modelDir(), "onnx", Model.Options.defaults())) {
      int max = manifest.text().orElseThrow().settings().maxBatch();
      List<String> texts = new ArrayList<>(Collections.nCopies(max + 3, "the same ticket text"));
      texts.set(max + 1, "another one");
      float[][] vectors = model.embed(texts);
      assertEquals(max + 3, vectors.length);
      // The second batch answers as the same three texts sent alone (the same batch, so the same padding: with left
      // padding and position embeddings, a text's answer depends on its batch's longest text).
      float[][] tail = model.embed(texts.subList(max, max + 3));
      for (int row = 0; row < 3; row++) {
        for (int i = 0; i < tail[row].length; i++) {
          assertEquals(tail[row][i], vectors[max + row][i], 1e-6);
        }
      }
    }
  }

  @Test
  void badRequestsAreInvalidInputAndAClosedModelRefuses() throws Exception {
    Manifest manifest = RunnerChecks.model(MODEL);
    TextModel model = TextModel.open(manifest.modelDir(), "onnx", Model.Options.defaults());
    try {
      assertEquals("no texts given: send at least one", assertThrows(InvalidInputException.class, () -> model.embed(List.of())).getMessage());
      assertTrue(assertThrows(InvalidInputException.class, () -> model.embed(List.of("ok", "bad \ud800")))
          .getMessage().startsWith("text 1 holds an unpaired UTF-16 surrogate (U+D800) at char 4"));
      assertTrue(assertThrows(InvalidInputException.class, () -> model.embed(List.of("x".repeat(20000))))
          .getMessage().contains("20000 bytes of UTF-8, over the model's max_text_bytes 16384"));
      assertTrue(assertThrows(InvalidInputException.class, () -> model.embed(Collections.nCopies(TextPipeline.MAX_TEXTS_PER_CALL + 1, "t")))
          .getMessage().startsWith((TextPipeline.MAX_TEXTS_PER_CALL + 1) + " texts in one call"));
      assertEquals("this model takes single texts, not pairs",
          assertThrows(InvalidInputException.class, () -> model.embedPairs(List.of(new TextPair("a", "b")))).getMessage());
    } finally {
      model.close();
    }
    ModelUnavailableException closed = assertThrows(ModelUnavailableException.class, () -> model.embed(List.of("after close")));
    assertEquals(ModelUnavailableException.Reason.CLOSED, closed.reason());
  }

  private static void assertClose(Tensor reference, float[][] got, int rows) {
    assertEquals(rows, got.length);
    int width = (int) reference.shape()[1];
    for (int r = 0; r < rows; r++) {
      for (int w = 0; w < width; w++) {
        double want = reference.get((long) r * width + w);
        if (Math.abs(want - got[r][w]) > 1e-5) {
          throw new AssertionError("row " + r + " col " + w + ": " + got[r][w] + " != reference " + want);
        }
      }
    }
  }
}
