package org.exportpipeline.harness.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ParityTest {
  static Tensor floats(float... values) {
    ByteBuffer data = ByteBuffer.allocateDirect(values.length * 4).order(ByteOrder.nativeOrder());
    for (float value : values) {
      data.putFloat(value);
    }
    return new Tensor("y", Tensor.DType.FLOAT32, new long[] {values.length}, data.flip());
  }

  static Tensor doubles(double... values) {
    ByteBuffer data = ByteBuffer.allocateDirect(values.length * 8).order(ByteOrder.nativeOrder());
    for (double value : values) {
      data.putDouble(value);
    }
    return new Tensor("y", Tensor.DType.FLOAT64, new long[] {values.length}, data.flip());
  }

  private static Parity parity(Parity.Rule rule) {
    return new Parity(new Parity.Spec(Map.of("y", rule)));
  }

  @Test
  void fixedIsElementwiseAtolPlusRtol() {
    Parity parity = parity(new Parity.Fixed(1e-5, 1e-5));
    parity.add("c0", Map.of("y", floats(1.000015f, 0f)), Map.of("y", floats(1f, 0f)));
    assertTrue(parity.passed(), parity.toString());
    assertEquals(1.5e-5, parity.maxAbsErr(), 1e-7);
    assertEquals(1.5e-5 / 2e-5, parity.worstRatio(), 1e-2);

    Parity beyond = parity(new Parity.Fixed(1e-5, 1e-5));
    beyond.add("c0", Map.of("y", floats(1.0001f)), Map.of("y", floats(1f)));
    assertFalse(beyond.passed());
    assertTrue(beyond.worstRatio() > 4, beyond.toString());
    assertEquals(0, beyond.eagerAbsErr());
  }

  @Test
  void eagerBoundAllowsAFactorOfEagerErrorWithAnUlpFloor() {
    float eps = Math.ulp(1f);
    Map<String, Parity.CaseBound> cases = Map.of("c0", new Parity.CaseBound(4e-5, 1.0), "c1", new Parity.CaseBound(0, 2.0));
    Parity.Rule rule = new Parity.EagerBound(2, 8, eps, cases);

    Parity parity = parity(rule);
    parity.add("c0", Map.of("y", floats(1f)), Map.of("y", doubles(1 + 7e-5))); // allowed 8e-5
    parity.add("c1", Map.of("y", floats(2f)), Map.of("y", doubles(2 + 10 * eps))); // allowed 16 eps (floor)
    assertTrue(parity.passed(), parity.toString());
    assertEquals(4e-5, parity.eagerAbsErr(), 0);
    assertEquals(7e-5, parity.maxAbsErr(), 1e-12);
    assertEquals(7e-5 / 8e-5, parity.worstRatio(), 1e-9);

    Parity beyond = parity(rule);
    beyond.add("c1", Map.of("y", floats(2f)), Map.of("y", doubles(2 + 20 * eps)));
    assertFalse(beyond.passed(), beyond.toString());
    assertEquals(20.0 / 16, beyond.worstRatio(), 1e-9);
  }

  @Test
  void nothingAllowedGivesInfiniteRatioOnlyWhenThereIsAnError() {
    Parity.Rule zero = new Parity.EagerBound(2, 8, 1e-7, Map.of("c0", new Parity.CaseBound(0, 0)));
    Parity same = parity(zero);
    same.add("c0", Map.of("y", floats(0f)), Map.of("y", doubles(0)));
    assertTrue(same.passed());
    assertEquals(0, same.worstRatio());

    Parity off = parity(zero);
    off.add("c0", Map.of("y", floats(1e-30f)), Map.of("y", doubles(0)));
    assertFalse(off.passed());
    assertEquals(Double.POSITIVE_INFINITY, off.worstRatio());
  }

  @Test
  void exactIsEquality() {
    Parity equal = parity(new Parity.Exact());
    equal.add("c0", Map.of("y", floats(3f, 4f)), Map.of("y", floats(3f, 4f)));
    assertTrue(equal.passed());
    Parity off = parity(new Parity.Exact());
    off.add("c0", Map.of("y", floats(3f, 5f)), Map.of("y", floats(3f, 4f)));
    assertFalse(off.passed());
    assertEquals(Double.POSITIVE_INFINITY, off.worstRatio());
  }

  @Test
  void missingOutputShapeMismatchNanAndUnknownCaseFailWithAnError() {
    Parity shapes = parity(new Parity.Fixed(1e-5, 1e-5));
    shapes.add("c0", Map.of("y", floats(1f, 2f)), Map.of("y", floats(1f)));
    assertFalse(shapes.passed());
    assertTrue(shapes.error().contains("shape"), shapes.error());

    Parity nan = parity(new Parity.Fixed(1e-5, 1e-5));
    nan.add("c0", Map.of("y", floats(Float.NaN)), Map.of("y", floats(1f)));
    assertFalse(nan.passed());
    assertTrue(nan.error().contains("NaN"), nan.error());

    Parity missing = parity(new Parity.Fixed(1e-5, 1e-5));
    missing.add("c0", Map.of(), Map.of("y", floats(1f)));
    assertFalse(missing.passed());
    assertTrue(missing.error().contains("missing"), missing.error());

    Parity unknown = parity(new Parity.EagerBound(2, 8, 1e-7, Map.of()));
    unknown.add("c9", Map.of("y", floats(1f)), Map.of("y", floats(1f)));
    assertFalse(unknown.passed());
    assertTrue(unknown.error().contains("c9"), unknown.error());
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

  @Test
  void aFailedVerdictNamesItsWorstCaseOutputAndElementAsPythonDoes() {
    // tests/test_causes.py holds Python's Parity to the same figures
    ByteBuffer data = ByteBuffer.allocateDirect(6 * 8).order(ByteOrder.nativeOrder());
    for (double value : new double[] {0, 0, 0, 0, 0.5, 0}) {
      data.putDouble(value);
    }
    Tensor got = new Tensor("y", Tensor.DType.FLOAT64, new long[] {2, 3}, data.flip());
    ByteBuffer zeros = ByteBuffer.allocateDirect(6 * 8).order(ByteOrder.nativeOrder());
    Tensor reference = new Tensor("y", Tensor.DType.FLOAT64, new long[] {2, 3}, zeros);
    Parity parity = parity(new Parity.Fixed(1e-3, 0));
    parity.add("case0", "min: batch=2", Map.of("y", reference), Map.of("y", reference));
    parity.add("case1", "max: batch=2", Map.of("y", got), Map.of("y", reference));
    assertFalse(parity.passed());
    assertEquals(java.util.List.of("case1"), parity.failedCases());
    Parity.Worst worst = parity.worst();
    assertEquals("case1", worst.caseName());
    assertEquals("max: batch=2", worst.where());
    assertEquals("y", worst.output());
    assertEquals("[1, 1]", java.util.Arrays.toString(worst.index()));
    assertEquals(500.0, worst.ratio(), 1e-9);
    assertEquals(0.5, worst.err(), 0);
  }
}
