package org.exportpipeline.harness.tools;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.exportpipeline.harness.Runner;
import org.exportpipeline.harness.contract.Manifest;
import org.exportpipeline.harness.contract.Messages;
import org.exportpipeline.harness.contract.Parity;
import org.exportpipeline.harness.contract.Tensor;

/**
 * The single-caller answers to the golden cases, and the judgement of an answer given under load: the
 * same bits, or (a runtime whose reductions depend on thread count) within the parity rule against the
 * case's reference; another caller's answer or memory read after it was freed fails both.
 * Thread-safe (immutable after construction).
 */
final class Answers {
  /** How an answer under load compared. */
  enum Verdict { SAME_BITS, WITHIN_RULE, WRONG }

  private final Parity.Spec spec;
  private final List<Manifest.GoldenCase> cases;
  private final List<Map<String, Tensor>> answers;

  Answers(Parity.Spec spec, List<Manifest.GoldenCase> cases, List<Map<String, Tensor>> answers) {
    this.spec = spec;
    this.cases = cases;
    this.answers = answers;
  }

  int size() {
    return cases.size();
  }

  /** What callers under load got, counted as they go: calls, failed calls, wrong answers, and the first error. Thread-safe. */
  static final class Tally {
    final AtomicInteger calls = new AtomicInteger();
    final AtomicInteger failures = new AtomicInteger();
    final AtomicInteger wrong = new AtomicInteger();
    final AtomicInteger notBitIdentical = new AtomicInteger();
    final AtomicReference<String> firstError = new AtomicReference<>();
  }

  /** Runs case index on these inputs from caller (its call-th call) and counts how the answer compared. */
  void call(Runner runner, int index, Map<String, Tensor> inputs, int caller, int call, Tally tally) {
    tally.calls.incrementAndGet();
    try {
      String[] why = new String[1];
      Verdict verdict = judge(index, runner.run(inputs), why);
      if (verdict != Verdict.SAME_BITS) {
        tally.notBitIdentical.incrementAndGet();
      }
      if (verdict == Verdict.WRONG) {
        tally.wrong.incrementAndGet();
        tally.firstError.compareAndSet(null, "case " + cases.get(index).name() + " (caller " + caller + ", call " + call
            + "): answer differs from its single-caller answer, " + why[0]);
      }
    } catch (Exception | LinkageError e) {
      tally.failures.incrementAndGet();
      tally.firstError.compareAndSet(null, Messages.decisiveLine(e));
    }
  }

  /** SAME_BITS, WITHIN_RULE, or WRONG with the parity line that says why in why[0]. */
  Verdict judge(int index, Map<String, Tensor> got, String[] why) {
    if (bitIdentical(got, answers.get(index))) {
      return Verdict.SAME_BITS;
    }
    Parity parity = new Parity(spec);
    parity.add(cases.get(index).name(), got, cases.get(index).reference());
    if (parity.passed()) {
      return Verdict.WITHIN_RULE;
    }
    why[0] = parity.toString();
    return Verdict.WRONG;
  }

  /** The case's inputs in buffers of this call's own, over the same memory: a runtime may move a buffer's position. */
  Map<String, Tensor> sharedInputs(int index) {
    Map<String, Tensor> own = new LinkedHashMap<>();
    cases.get(index).inputs().forEach((name, t) -> own.put(name, new Tensor(t.name(), t.dtype(), t.shape(), t.data().duplicate())));
    return own;
  }

  /** The case's inputs copied into fresh direct buffers, as a service builds each request's: dropped after the call. */
  Map<String, Tensor> freshInputs(int index) {
    Map<String, Tensor> fresh = new LinkedHashMap<>();
    cases.get(index).inputs().forEach((name, t) -> fresh.put(name, Tensor.copyOf(t.name(), t.dtype(), t.shape(), t.data())));
    return fresh;
  }

  static boolean bitIdentical(Map<String, Tensor> got, Map<String, Tensor> want) {
    if (!got.keySet().equals(want.keySet())) {
      return false;
    }
    for (Map.Entry<String, Tensor> entry : want.entrySet()) {
      Tensor a = got.get(entry.getKey());
      Tensor b = entry.getValue();
      if (a.dtype() != b.dtype() || !Arrays.equals(a.shape(), b.shape()) || !a.data().equals(b.data())) {
        return false;
      }
    }
    return true;
  }
}
