package org.exportpipeline.harness;

import java.util.Arrays;
import java.util.Map;

/**
 * The contract's parity rule, |actual - golden| <= atol + rtol * |golden| elementwise, tracking the
 * worst absolute and relative error over every output of every case (as exporters/contract.py does).
 */
public final class Parity {
  private final double atol;
  private final double rtol;
  private double maxAbsErr;
  private double maxRelErr;
  private boolean passed = true;
  private int cases;
  private String error;

  public Parity(double atol, double rtol) {
    this.atol = atol;
    this.rtol = rtol;
  }

  public void add(Map<String, Tensor> actual, Map<String, Tensor> expected) {
    cases++;
    for (Tensor want : expected.values()) {
      Tensor got = actual.get(want.name());
      if (got == null) {
        fail("output " + want.name() + " is missing");
      } else if (!Arrays.equals(got.shape(), want.shape())) {
        fail("output " + want.name() + ": shape " + Arrays.toString(got.shape()) + " != golden " + Arrays.toString(want.shape()));
      } else {
        compare(got, want);
      }
    }
  }

  private void compare(Tensor got, Tensor want) {
    for (long i = 0; i < want.elementCount(); i++) {
      double expected = want.get(i);
      double diff = Math.abs(got.get(i) - expected);
      if (!Double.isFinite(diff)) {
        fail("output " + want.name() + ": NaN or inf in the difference to golden");
        return;
      }
      maxAbsErr = Math.max(maxAbsErr, diff);
      maxRelErr = Math.max(maxRelErr, diff / Math.max(Math.abs(expected), 1e-12));
      if (diff > atol + rtol * Math.abs(expected)) {
        passed = false;
      }
    }
  }

  public void fail(String reason) {
    passed = false;
    if (error == null) {
      error = reason;
    }
  }

  public boolean passed() {
    return passed;
  }

  public double maxAbsErr() {
    return maxAbsErr;
  }

  public double maxRelErr() {
    return maxRelErr;
  }

  public int cases() {
    return cases;
  }

  /** The first structural problem (shape, NaN, runtime error), or null. */
  public String error() {
    return error;
  }

  @Override
  public String toString() {
    return String.format("%s max abs %.1e max rel %.1e over %d case(s)%s",
        passed ? "pass" : "FAIL", maxAbsErr, maxRelErr, cases, error == null ? "" : ": " + error);
  }
}
