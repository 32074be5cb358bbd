package org.exportpipeline.harness.tools;

import com.google.gson.JsonObject;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.exportpipeline.harness.ModelException;
import org.exportpipeline.harness.Runner;
import org.exportpipeline.harness.contract.Messages;
import org.exportpipeline.harness.contract.Parity;
import org.exportpipeline.harness.contract.Tensor;
import org.exportpipeline.harness.contract.TextContract;
import org.exportpipeline.harness.text.TextPair;
import org.exportpipeline.harness.text.TextPipeline;
import org.exportpipeline.harness.text.TextTokenizer;

/**
 * Strings to answers on one opened runner, as exporters/text/pipeline.prove does in Python: every text
 * case tokenized here (DJL's binding of the Rust tokenizers library) must give exactly the token ids,
 * masks and type ids export recorded, and its answers after the postprocess pass the text parity rules;
 * then N callers run every case at once through the same pipeline, each answer judged the same way.
 * Its JSON is what SelfCheck records under verification.text. Thread-safe (stateless).
 */
final class TextCheck {
  private TextCheck() {}

  static JsonObject run(Runner runner, TextContract text, int callers) {
    Parity parity = new Parity(text.parity());
    int texts = text.cases().stream().mapToInt(c -> c.items().size()).sum();
    String binding = "unavailable";
    JsonObject concurrency = new JsonObject();
    try (TextPipeline pipeline = new TextPipeline(text, runner::run)) {
      binding = "tokenizers " + pipeline.tokenizer().version().replaceFirst("-", " (DJL ") + ")"; // "0.21.0-0.35.1"
      for (TextContract.TextCase textCase : text.cases()) {
        TextTokenizer.Batch batch = encode(pipeline, textCase);
        String mismatch = tokenMismatch(textCase, batch.inputs());
        if (mismatch != null) {
          parity.fail(mismatch);
          continue;
        }
        parity.add(textCase.name(), pipeline.run(batch), textCase.reference());
      }
      concurrency = parity.passed() ? concurrently(pipeline, text, callers) : notRun(callers);
    } catch (Exception | LinkageError e) { // LinkageError: the tokenizer's native library does not load
      parity.fail(e.getClass().getSimpleName() + ": " + Messages.firstLine(e.getMessage()));
      concurrency = notRun(callers);
    }
    JsonObject json = ParityJson.of(parity);
    json.addProperty("texts", texts);
    json.addProperty("tokenizer", binding);
    json.add("concurrency", concurrency);
    json.addProperty("passed", parity.passed() && concurrency.get("passed").getAsBoolean());
    return json;
  }

  private static TextTokenizer.Batch encode(TextPipeline pipeline, TextContract.TextCase textCase) throws ModelException {
    if (!pipeline.contract().settings().pairs()) {
      return pipeline.tokenizer().encode(textCase.items().stream().map(item -> item.get(0)).toList());
    }
    return pipeline.tokenizer().encodePairs(textCase.items().stream().map(item -> new TextPair(item.get(0), item.get(1))).toList());
  }

  /** The first place where these inputs differ from those export recorded, worded as the Python check does, or null. */
  static String tokenMismatch(TextContract.TextCase textCase, Map<String, Tensor> inputs) {
    for (Map.Entry<String, long[][]> recorded : textCase.inputs().entrySet()) {
      String name = recorded.getKey();
      long[][] want = recorded.getValue();
      Tensor got = inputs.get(name);
      int width = want.length == 0 ? 0 : want[0].length;
      if (got == null || got.shape().length != 2 || got.shape()[0] != want.length || got.shape()[1] != width) {
        return textCase.name() + ": " + name + " has shape " + (got == null ? "None" : Arrays.toString(got.shape()))
            + ", export recorded [" + want.length + ", " + width + "]";
      }
      for (int row = 0; row < want.length; row++) {
        for (int col = 0; col < width; col++) {
          long value = (long) got.get((long) row * width + col);
          if (value != want[row][col]) {
            return textCase.name() + ": " + name + " of text '" + textCase.labels().get(row) + "' differs at token " + col + ": " + value
                + " here, " + want[row][col] + " recorded";
          }
        }
      }
    }
    return null;
  }

  /** callers threads, each through every case ConcurrencyCheck.ROUNDS times from its own offset. */
  private static JsonObject concurrently(TextPipeline pipeline, TextContract text, int callers) throws InterruptedException {
    Answers.Tally tally = new Answers.Tally();
    List<TextContract.TextCase> cases = text.cases();
    List<Thread> threads = new ArrayList<>();
    long start = System.nanoTime();
    for (int caller = 0; caller < callers; caller++) {
      int offset = caller;
      Thread thread = new Thread(() -> {
        for (int k = 0; k < ConcurrencyCheck.ROUNDS * cases.size(); k++) {
          TextContract.TextCase textCase = cases.get((offset + k) % cases.size());
          try {
            TextTokenizer.Batch batch = encode(pipeline, textCase);
            String mismatch = tokenMismatch(textCase, batch.inputs());
            Parity judged = new Parity(text.parity());
            if (mismatch == null) {
              judged.add(textCase.name(), pipeline.run(batch), textCase.reference());
            }
            if (mismatch != null || !judged.passed()) {
              tally.wrong.incrementAndGet();
              tally.firstError.compareAndSet(null, mismatch != null ? mismatch : textCase.name() + ": " + judged);
            }
          } catch (Exception e) {
            tally.failures.incrementAndGet();
            tally.firstError.compareAndSet(null, e.getClass().getSimpleName() + ": " + Messages.firstLine(e.getMessage()));
          }
          tally.calls.incrementAndGet();
        }
      }, "text-caller-" + caller);
      thread.start();
      threads.add(thread);
    }
    for (Thread thread : threads) {
      thread.join();
    }
    JsonObject json = new JsonObject();
    json.addProperty("callers", callers);
    json.addProperty("calls", tally.calls.get());
    json.addProperty("failures", tally.failures.get());
    json.addProperty("mismatches", tally.wrong.get());
    json.addProperty("wall_ms", Math.round((System.nanoTime() - start) / 1e5) / 10.0);
    json.addProperty("passed", tally.failures.get() == 0 && tally.wrong.get() == 0
        && tally.calls.get() == callers * ConcurrencyCheck.ROUNDS * cases.size());
    if (tally.firstError.get() != null) {
      json.addProperty("first_error", tally.firstError.get());
    }
    return json;
  }

  private static JsonObject notRun(int callers) {
    JsonObject json = new JsonObject();
    json.addProperty("callers", callers);
    json.addProperty("calls", 0);
    json.addProperty("passed", false);
    json.addProperty("first_error", "not run: the single-caller text check failed");
    return json;
  }
}
