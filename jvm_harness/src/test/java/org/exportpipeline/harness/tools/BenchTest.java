package org.exportpipeline.harness.tools;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.exportpipeline.harness.Runner;
import org.exportpipeline.harness.RunnerChecks;
import org.exportpipeline.harness.contract.Manifest;
import org.exportpipeline.harness.contract.Tensor;
import org.junit.jupiter.api.Test;

/** The bench's pure parts; timings themselves are never asserted. */
class BenchTest {

  @Test
  void percentilesInterpolateLikeNumpy() {
    double[] sorted = {1, 2, 3, 4};
    assertEquals(2.5, Bench.percentile(sorted, 50), 1e-12); // numpy.percentile([1,2,3,4], 50)
    assertEquals(3.7, Bench.percentile(sorted, 90), 1e-12);
    assertEquals(3.97, Bench.percentile(sorted, 99), 1e-12);
    assertEquals(7.0, Bench.percentile(new double[] {7}, 99), 1e-12);
  }

  @Test
  void tilingRepeatsRowsCyclicallyAlongDimZero() {
    ByteBuffer data = ByteBuffer.allocateDirect(4 * 4).order(ByteOrder.nativeOrder());
    data.putFloat(1).putFloat(2).putFloat(3).putFloat(4).flip();
    Tensor rows = new Tensor("x", Tensor.DType.FLOAT32, new long[] {2, 2}, data);
    Tensor tiled = Bench.tile(Map.of("x", rows), 5).get("x");
    assertArrayEquals(new long[] {5, 2}, tiled.shape());
    float[] values = new float[10];
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) tiled.get(i);
    }
    assertArrayEquals(new float[] {1, 2, 3, 4, 1, 2, 3, 4, 1, 2}, values);
    assertEquals(1, Bench.tile(Map.of("x", rows), 1).get("x").shape()[0]);
  }

  @Test
  void badCommandLinesAreRefusedWithWhatToChange() throws Usage {
    assertThrows(Usage.class, () -> Bench.parse(new String[] {"--runtime", "onnxruntime-java"}));
    assertThrows(Usage.class, () -> Bench.parse(new String[] {"--runtime", "x", "--repeats", "0", "dir"}));
    assertThrows(Usage.class, () -> Bench.parse(new String[] {"--runtime", "x", "--warmup-s", "nan", "dir"}));
    assertEquals(1, Bench.parse(new String[] {"--runtime", "x", "dir"}).threads());
    assertEquals(List.of(1), Bench.parse(new String[] {"--runtime", "x", "dir"}).callers());
    assertEquals(List.of(1, 3), Bench.parse(new String[] {"--runtime", "x", "--callers", "1", "--callers", "3", "dir"}).callers());
    assertThrows(Usage.class, () -> Bench.parse(new String[] {"--runtime", "x", "--callers", "0", "dir"}));
  }

  @Test
  void everyCallerCountGetsItsRowFromOneOpenedRunner() throws Exception {
    Path mlp = RunnerChecks.model("mlp").modelDir();
    Bench.Options options = Bench.parse(new String[] {"--runtime", "onnxruntime-java", "--warmup", "2", "--warmup-s", "0",
        "--repeats", "7", "--callers", "1", "--callers", "3", "--batch", "2", mlp.toString()});
    List<JsonObject> rows = Bench.measure(options);
    assertEquals(List.of(1, 3), rows.stream().map(r -> r.get("callers").getAsInt()).toList());
    for (JsonObject row : rows) {
      assertEquals(2, row.get("batch").getAsInt());
      assertTrue(row.get("throughput_per_s").getAsDouble() > 0 && row.get("p50_ms").getAsDouble() > 0, row.toString());
      assertTrue(row.get("p50_ms").getAsDouble() <= row.get("p99_ms").getAsDouble(), row.toString());
    }
  }

  @Test
  void callersEachMakeTheirTimedCallsOnTheSharedRunner() throws Exception {
    Manifest manifest = RunnerChecks.model("mlp");
    Map<String, Tensor> inputs = manifest.goldenCases().get(0).inputs();
    try (Runner runner = new org.exportpipeline.harness.ort.OrtRunner()) {
      runner.open(manifest.formatDir("onnx"), manifest);
      Bench.Timed timed = Bench.time(runner, inputs, 4, 1, 5);
      assertEquals(20, timed.samplesMs().length);
      assertTrue(Arrays.stream(timed.samplesMs()).allMatch(ms -> ms > 0) && timed.wallMs() > 0);
    }
  }
}
