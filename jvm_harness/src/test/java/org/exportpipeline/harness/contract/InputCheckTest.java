package org.exportpipeline.harness.contract;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The manifest-driven input check every new runner applies before its runtime sees a tensor. */
class InputCheckTest {
  private InputCheck check;

  @BeforeEach
  void manifest(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve(Manifest.FILE), """
        {"schema_version": 3, "model": "m", "source": "zoo:m",
         "golden": {"cases": [{"name": "c0", "inputs": {"x": "golden/x.npy"}, "outputs": {"y": "golden/y.npy"}}], "files": []},
         "parity": {"reference": "float64", "outputs": {"y": {"rule": "exact"}}}, "formats": {},
         "inputs": [{"name": "x", "dtype": "float32", "shape": ["batch", 4]}],
         "outputs": [{"name": "y", "dtype": "float32", "shape": ["batch", 1]}],
         "dims": {"batch": {"min": 1, "max": 8}}}
        """);
    check = new InputCheck(Manifest.read(dir, null));
  }

  private static Map<String, Tensor> x(Tensor.DType dtype, long... shape) {
    return Map.of("x", new Tensor("x", dtype, shape, ByteBuffer.allocateDirect(
        Math.toIntExact(Tensor.elementCount(shape) * dtype.bytes()))));
  }

  @Test
  void shapesWithinTheExportedBoundsPass() {
    assertDoesNotThrow(() -> check.require(x(Tensor.DType.FLOAT32, 1, 4)));
    assertDoesNotThrow(() -> check.require(x(Tensor.DType.FLOAT32, 8, 4)));
  }

  @Test
  void aWrongStaticDimABatchBeyondItsBoundOrAWrongRankIsRefusedWithTheBounds() {
    for (long[] shape : new long[][] {{2, 5}, {9, 4}, {2, 4, 1}}) {
      IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
          () -> check.require(x(Tensor.DType.FLOAT32, shape)));
      assertEquals("input x has shape " + java.util.Arrays.toString(shape)
          + " but the model was exported for [1..8, 4]: pass a shape within those bounds", error.getMessage());
    }
  }

  @Test
  void aWrongDtypeOrAMissingInputIsRefused() {
    assertEquals("input x is float64 but the model was exported for float32",
        assertThrows(IllegalArgumentException.class, () -> check.require(x(Tensor.DType.FLOAT64, 2, 4))).getMessage());
    assertEquals("input x is missing; the model takes x",
        assertThrows(IllegalArgumentException.class, () -> check.require(Map.of())).getMessage());
  }
}
