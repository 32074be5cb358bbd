package org.exportpipeline.harness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ParityTest {
  private static Tensor floats(float... values) {
    ByteBuffer data = ByteBuffer.allocateDirect(values.length * 4).order(ByteOrder.nativeOrder());
    for (float value : values) {
      data.putFloat(value);
    }
    return new Tensor("y", Tensor.DType.FLOAT32, new long[] {values.length}, data.flip());
  }

  @Test
  void withinAtolPlusRtolPasses() {
    Parity parity = new Parity(1e-5, 1e-5);
    parity.add(Map.of("y", floats(1.000015f, 0f)), Map.of("y", floats(1f, 0f)));
    assertTrue(parity.passed(), parity.toString());
    assertEquals(1.5e-5, parity.maxAbsErr(), 1e-7);
  }

  @Test
  void beyondToleranceFailsAndReportsTheError() {
    Parity parity = new Parity(1e-5, 1e-5);
    parity.add(Map.of("y", floats(1.0001f)), Map.of("y", floats(1f)));
    assertFalse(parity.passed());
    assertEquals(1e-4, parity.maxRelErr(), 1e-6);
  }

  @Test
  void shapeMismatchAndNanFail() {
    Parity shapes = new Parity(1e-5, 1e-5);
    shapes.add(Map.of("y", floats(1f, 2f)), Map.of("y", floats(1f)));
    assertFalse(shapes.passed());
    assertTrue(shapes.error().contains("shape"), shapes.error());

    Parity nan = new Parity(1e-5, 1e-5);
    nan.add(Map.of("y", floats(Float.NaN)), Map.of("y", floats(1f)));
    assertFalse(nan.passed());
  }

  @Test
  void tensorRejectsWrongByteCount() {
    ByteBuffer data = ByteBuffer.allocateDirect(8);
    try {
      new Tensor("x", Tensor.DType.FLOAT32, new long[] {3}, data);
    } catch (IllegalArgumentException expected) {
      assertTrue(expected.getMessage().contains("expected 12"), expected.getMessage());
      return;
    }
    throw new AssertionError("a 3-float tensor over 8 bytes was accepted");
  }
}
