package org.exportpipeline.harness.tools;

import com.google.gson.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.exportpipeline.harness.Runner;
import org.exportpipeline.harness.contract.Manifest;
import org.exportpipeline.harness.contract.Parity;
import org.exportpipeline.harness.contract.Tensor;

/**
 * Proof that one opened runner serves several threads: N callers share it, each cycles through the
 * golden cases from its own offset (so different shapes are in flight together), every case ROUNDS
 * times, and every answer is compared with the single-caller answer of the same case. An answer that
 * is not bit-identical (a runtime whose reductions depend on thread count) is judged by the parity
 * rule against the case's reference instead; another caller's answer fails it. Thread-safe (stateless).
 */
public final class ConcurrencyCheck {
  public static final int DEFAULT_CALLERS = 4;
  /** Each caller runs every golden case this many times: each pair of shapes meets in flight. */
  public static final int ROUNDS = 2;

  /** The figures SelfCheck records under verification.concurrency. */
  public record Outcome(int callers, int calls, int expectedCalls, int failures, int mismatches, int notBitIdentical,
      double wallMs, String firstError) {
    public boolean passed() {
      return failures == 0 && mismatches == 0 && expectedCalls > 0 && calls == expectedCalls;
    }

    JsonObject toJson() {
      JsonObject json = new JsonObject();
      json.addProperty("callers", callers);
      json.addProperty("calls", calls);
      json.addProperty("failures", failures);
      json.addProperty("mismatches", mismatches);
      json.addProperty("not_bit_identical", notBitIdentical);
      json.addProperty("wall_ms", Math.round(wallMs * 10) / 10.0);
      json.addProperty("passed", passed());
      if (firstError != null) {
        json.addProperty("first_error", firstError);
      }
      return json;
    }

    /** An outcome for a runner whose single-caller run already failed: nothing was tried. */
    static Outcome notRun(int callers, String why) {
      return new Outcome(callers, 0, 0, 0, 0, 0, 0, "not run: " + why);
    }
  }

  private ConcurrencyCheck() {}

  /**
   * Runs callers x ROUNDS x cases calls on the opened runner; answers[i] is the single-caller
   * answer to cases[i].
   */
  public static Outcome run(Runner runner, Parity.Spec spec, List<Manifest.GoldenCase> cases, List<Map<String, Tensor>> answers, int callers)
      throws InterruptedException {
    Answers known = new Answers(spec, cases, answers);
    Answers.Tally tally = new Answers.Tally();
    CountDownLatch start = new CountDownLatch(1);
    List<Thread> threads = new ArrayList<>();
    int perCaller = ROUNDS * cases.size();
    for (int caller = 0; caller < callers; caller++) {
      int offset = caller;
      Thread thread = new Thread(() -> {
        try {
          start.await();
        } catch (InterruptedException e) {
          return;
        }
        for (int k = 0; k < perCaller; k++) {
          int index = (offset + k) % cases.size();
          known.call(runner, index, known.sharedInputs(index), offset, k, tally);
        }
      }, "caller-" + caller);
      thread.start();
      threads.add(thread);
    }
    long begin = System.nanoTime();
    start.countDown();
    for (Thread thread : threads) {
      thread.join();
    }
    double wallMs = (System.nanoTime() - begin) / 1e6;
    return new Outcome(callers, tally.calls.get(), callers * perCaller, tally.failures.get(), tally.wrong.get(), tally.notBitIdentical.get(),
        wallMs, tally.firstError.get());
  }

}
