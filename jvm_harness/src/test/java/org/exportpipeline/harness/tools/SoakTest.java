package org.exportpipeline.harness.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.exportpipeline.harness.Runner;
import org.exportpipeline.harness.RunnerChecks;
import org.exportpipeline.harness.contract.Manifest;
import org.exportpipeline.harness.contract.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The sustained check catches what the OpenVINO runner did: native code reading, by address, a direct
 * buffer that nothing keeps reachable for the call. The runner below stages each input in a buffer of
 * its own, keeps only the buffer's address (as a runtime binding does) and reads it back a moment
 * later, as a native call would; under the soak's GC pressure the buffer is freed and its memory
 * reused in between. The same runner keeping the buffer reachable to the end of the read
 * (Reference.reachabilityFence, what Runner does for every call's inputs) gives no wrong answer.
 */
class SoakTest {
  private static final Soak.Settings SHORT = new Soak.Settings(6, 4, 1e9);

  /** Row sums of x (mlp's input) as y [batch, 1], read back through the staged copy's address. */
  static final class StagingRunner extends Runner {
    private final boolean keepsStagingReachable;

    StagingRunner(boolean keepsStagingReachable) {
      super("onnx", keepsStagingReachable ? "staging-fenced" : "staging-unfenced", "staging");
      this.keepsStagingReachable = keepsStagingReachable;
    }

    @Override
    public String version() {
      return "test";
    }

    @Override
    protected void load(Path formatDir, Manifest manifest) {}

    @Override
    protected Map<String, Tensor> infer(List<Tensor> inputs) throws InterruptedException {
      Tensor x = inputs.get(0);
      ByteBuffer staging = ByteBuffer.allocateDirect(x.data().remaining()).order(ByteOrder.nativeOrder());
      staging.put(x.data().duplicate()).flip();
      Pointer address = Native.getDirectBufferPointer(staging); // what a binding hands to C
      ByteBuffer kept = keepsStagingReachable ? staging : null;
      staging = null; // the JIT ends a local's reachability at its last use; the interpreter needs telling
      Thread.sleep(2); // the native call runs; the GC may run meanwhile
      long rows = x.shape()[0];
      long cols = x.shape()[1];
      ByteBuffer y = ByteBuffer.allocateDirect(Math.toIntExact(rows * 4)).order(ByteOrder.nativeOrder());
      for (long r = 0; r < rows; r++) {
        float sum = 0;
        for (long c = 0; c < cols; c++) {
          sum += address.getFloat((r * cols + c) * 4);
        }
        y.putFloat(Math.toIntExact(r * 4), sum);
      }
      Reference.reachabilityFence(kept);
      return Map.of("y", new Tensor("y", Tensor.DType.FLOAT32, new long[] {rows, 1}, y));
    }

    @Override
    protected void release() {}
  }

  private static Soak.Outcome soak(Runner runner) throws Exception {
    Manifest mlp = RunnerChecks.model("mlp");
    try (runner) {
      runner.open(mlp.formatDir(runner.format()), mlp);
      List<Map<String, Tensor>> answers = new ArrayList<>();
      for (Manifest.GoldenCase goldenCase : mlp.goldenCases()) {
        answers.add(runner.run(goldenCase.inputs()));
      }
      return Soak.run(runner, mlp.parity(), mlp.goldenCases(), answers, SHORT);
    }
  }

  @Test
  void memoryReadAfterTheGcFreedItShowsAsWrongAnswers() throws Exception {
    Soak.Outcome unsafe = soak(new StagingRunner(false));
    assertTrue(unsafe.wrong() > 0, "the soak missed reads of freed memory: " + unsafe.toJson());
    assertFalse(unsafe.passed());
    assertTrue(unsafe.firstError().contains("differs from its single-caller answer"), unsafe.firstError());
  }

  @Test
  void theSameRunnerKeepingItsBufferReachableGivesNoWrongAnswer() throws Exception {
    Soak.Outcome safe = soak(new StagingRunner(true));
    assertEquals(0, safe.wrong(), String.valueOf(safe.firstError()));
    assertEquals(0, safe.failures(), String.valueOf(safe.firstError()));
    assertTrue(safe.calls() > 100, "only " + safe.calls() + " calls");
    assertTrue(safe.collections() > 10, "only " + safe.collections() + " collections: no GC pressure");
    assertTrue(safe.passed(), safe.toJson().toString());
  }

  @Test
  void theRssSlopeIsTheLeastSquaresSlopeAfterTheWarmup() {
    List<double[]> samples = List.of(new double[] {0, 900}, new double[] {5, 100}, new double[] {6, 101}, new double[] {7, 102});
    assertEquals(60.0, Soak.slopePerMinute(samples, 5), 1e-9);
    assertEquals(0.0, Soak.slopePerMinute(samples.subList(0, 2), 0), 1e-9);
  }

  @Test
  void theSlopeIsJudgedOnlyWithAMinuteAfterTheWarmup() {
    assertTrue(new Soak.Settings(120, 8, 30).judgesRss()); // 30 s warm-up, 90 s judged
    assertFalse(new Soak.Settings(20, 8, 30).judgesRss());
    Soak.Outcome shortRun = new Soak.Outcome(new Soak.Settings(20, 8, 30), 100, 0, 0, 0, 20, 50, 1000, 1100, 500, null);
    assertTrue(shortRun.passed(), "a 20 s soak's settling allocators are reported, not judged");
    assertFalse(shortRun.toJson().get("rss_judged").getAsBoolean());
    Soak.Outcome leaking = new Soak.Outcome(new Soak.Settings(120, 8, 30), 100, 0, 0, 0, 120, 50, 1000, 1300, 150, null);
    assertFalse(leaking.passed());
  }
}
