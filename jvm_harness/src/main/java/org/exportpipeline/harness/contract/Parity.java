package org.exportpipeline.harness.contract;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The contract's parity rule, one per output, judged against each case's reference tensor (float64
 * outputs of the model when recorded, else eager fp32) in double precision. Keeps the same figures
 * as the Python side: worst error, worst eager error and worst ratio of error to allowance.
 * Not thread-safe: it accumulates; use one per thread (its Spec is immutable and may be shared).
 */
public final class Parity {

  /** How one output is judged. */
  public sealed interface Rule permits EagerBound, Fixed, Exact {}

  /** err <= max(factor * eager_err, floor_ulps * eps * scale) per case, with eager_err and scale per case. */
  public record EagerBound(double factor, double floorUlps, double eps, Map<String, CaseBound> cases) implements Rule {}

  public record CaseBound(double eagerErr, double scale) {}

  /** |actual - ref| <= atol + rtol * |ref| elementwise. */
  public record Fixed(double atol, double rtol) implements Rule {}

  /** actual == ref elementwise (integer and bool outputs). */
  public record Exact() implements Rule {}

  /**
   * The rules of every output, in the manifest's output order, and per output the axes whose size the data decides
   * (their dim names; Manifest.dataAxes), so that a count that differs is named as such.
   */
  public record Spec(Map<String, Rule> rules, Map<String, Map<Integer, String>> dataAxes) {

    public Spec(Map<String, Rule> rules) {
      this(rules, Map.of());
    }

    /** These rules, with the outputs' data axes. */
    public Spec withDataAxes(Map<String, Map<Integer, String>> axes) {
      return new Spec(rules, axes);
    }

    static Spec fromJson(JsonObject parity, List<String> outputs) throws ContractException {
      Map<String, Rule> rules = new LinkedHashMap<>();
      for (String name : outputs) {
        String where = "parity.outputs." + name;
        try {
          rules.put(name, rule(parity.getAsJsonObject("outputs").getAsJsonObject(name)));
        } catch (RuntimeException e) {
          throw new ContractException("manifest.json: " + where + " is missing or not a known rule (eager_bound, fixed, exact): re-export the model");
        }
      }
      return new Spec(rules);
    }

    private static Rule rule(JsonObject json) {
      String rule = json.get("rule").getAsString();
      return switch (rule) {
        case "eager_bound" -> {
          Map<String, CaseBound> cases = new LinkedHashMap<>();
          for (Map.Entry<String, JsonElement> c : json.getAsJsonObject("cases").entrySet()) {
            JsonObject bound = c.getValue().getAsJsonObject();
            cases.put(c.getKey(), new CaseBound(bound.get("eager_err").getAsDouble(), bound.get("scale").getAsDouble()));
          }
          yield new EagerBound(json.get("factor").getAsDouble(), json.get("floor_ulps").getAsDouble(), json.get("eps").getAsDouble(), cases);
        }
        case "fixed" -> new Fixed(json.get("atol").getAsDouble(), json.get("rtol").getAsDouble());
        case "exact" -> new Exact();
        default -> throw new IllegalArgumentException(rule);
      };
    }
  }

  /** Worst figures of one output over the cases seen. */
  public static final class OutputStats {
    private double maxAbsErr;
    private double eagerAbsErr;
    private double worstRatio;

    public double maxAbsErr() {
      return maxAbsErr;
    }

    public double eagerAbsErr() {
      return eagerAbsErr;
    }

    public double worstRatio() {
      return worstRatio;
    }
  }

  /** Where the answers part most: the case and its box point, the output, the element, and error/allowed there. */
  public record Worst(String caseName, String where, String output, long[] index, double ratio, double err) {}

  private final Spec spec;
  private final Map<String, OutputStats> outputs = new LinkedHashMap<>();
  private final List<String> failedCases = new ArrayList<>();
  private boolean passed = true;
  private int cases;
  private String error;
  private Worst worst;

  public Parity(Spec spec) {
    this.spec = spec;
    spec.rules().keySet().forEach(name -> outputs.put(name, new OutputStats()));
  }

  /** Judges one case's outputs against its reference tensors. */
  public void add(String caseName, Map<String, Tensor> actual, Map<String, Tensor> reference) {
    add(caseName, "", actual, reference);
  }

  /** Judges one case's outputs, naming where the case sits in the box when it holds the worst answer. */
  public void add(String caseName, String where, Map<String, Tensor> actual, Map<String, Tensor> reference) {
    cases++;
    for (Map.Entry<String, Rule> entry : spec.rules().entrySet()) {
      String name = entry.getKey();
      Tensor got = actual.get(name);
      Tensor want = reference.get(name);
      if (got == null) {
        fail("output " + name + " is missing");
      } else if (want == null) {
        fail("case " + caseName + " has no reference for output " + name);
      } else if (!Arrays.equals(got.shape(), want.shape())) {
        fail(shapeDifference(name, got.shape(), want.shape(), spec.dataAxes().getOrDefault(name, Map.of())));
      } else {
        compare(caseName, where, got, want, entry.getValue(), outputs.get(name));
      }
    }
  }

  private void compare(String caseName, String where, Tensor got, Tensor want, Rule rule, OutputStats stats) {
    double err = 0;
    double ratio = 0;
    long at = 0; // the worst element: largest error, or largest error/bound under a fixed rule (first of equals)
    for (long i = 0; i < want.elementCount(); i++) {
      double ref = want.get(i);
      double diff = Math.abs(got.get(i) - ref);
      if (!Double.isFinite(diff)) {
        fail("output " + want.name() + ": NaN or inf in the difference to the reference (case " + caseName + ")");
        return;
      }
      if (rule instanceof Fixed fixed) {
        double elementRatio = ratio(diff, fixed.atol() + fixed.rtol() * Math.abs(ref));
        if (elementRatio > ratio) {
          ratio = elementRatio;
          at = i;
        }
      } else if (diff > err) {
        at = i;
      }
      err = Math.max(err, diff);
    }
    if (rule instanceof EagerBound bound) {
      CaseBound caseBound = bound.cases().get(caseName);
      if (caseBound == null) {
        fail("parity rule of output " + want.name() + " has no eager error for case " + caseName);
        return;
      }
      stats.eagerAbsErr = Math.max(stats.eagerAbsErr, caseBound.eagerErr());
      double allowed = Math.max(bound.factor() * caseBound.eagerErr(), bound.floorUlps() * bound.eps() * caseBound.scale());
      ratio = ratio(err, allowed);
    } else if (rule instanceof Exact) {
      ratio = ratio(err, 0);
    }
    stats.maxAbsErr = Math.max(stats.maxAbsErr, err);
    stats.worstRatio = Math.max(stats.worstRatio, ratio);
    if (ratio > 0 && (worst == null || ratio > worst.ratio())) {
      worst = new Worst(caseName, where, want.name(), index(at, want.shape()), ratio, err);
    }
    if (ratio > 1) { // as the Python side decides, so both sides give the same verdict
      passed = false;
      if (!failedCases.contains(caseName)) {
        failedCases.add(caseName);
      }
    }
  }

  /** A flat (row-major) element index as one index per dim. */
  private static long[] index(long flat, long[] shape) {
    long[] index = new long[shape.length];
    for (int d = shape.length - 1; d >= 0; d--) {
      index[d] = shape[d] == 0 ? 0 : flat % shape[d];
      flat = shape[d] == 0 ? 0 : flat / shape[d];
    }
    return index;
  }

  /**
   * One line for an answer of another shape: where only a count the data decides differs, the artifact kept other
   * detections than the reference did, and the line says so (parity.py's shape_difference words it alike).
   */
  static String shapeDifference(String name, long[] got, long[] want, Map<Integer, String> axes) {
    for (Map.Entry<Integer, String> entry : axes.entrySet()) {
      int axis = entry.getKey();
      boolean othersEqual = got.length == want.length && axis < want.length;
      for (int other = 0; othersEqual && other < want.length; other++) {
        othersEqual = other == axis || got[other] == want[other];
      }
      if (othersEqual) {
        String unit = axis == 0 ? "rows" : "entries along dim " + axis;
        return "output " + name + ": the artifact returned " + got[axis] + " " + unit + " (" + entry.getValue() + "), the reference " + want[axis];
      }
    }
    return "output " + name + ": shape " + Arrays.toString(got) + " != reference " + Arrays.toString(want);
  }

  /** err / allowed, with 0 for no error and +inf for any error where nothing is allowed. */
  private static double ratio(double err, double allowed) {
    if (err == 0) {
      return 0;
    }
    return allowed == 0 ? Double.POSITIVE_INFINITY : err / allowed;
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

  public int cases() {
    return cases;
  }

  public double maxAbsErr() {
    return outputs.values().stream().mapToDouble(OutputStats::maxAbsErr).max().orElse(0);
  }

  public double eagerAbsErr() {
    return outputs.values().stream().mapToDouble(OutputStats::eagerAbsErr).max().orElse(0);
  }

  public double worstRatio() {
    return outputs.values().stream().mapToDouble(OutputStats::worstRatio).max().orElse(0);
  }

  public Map<String, OutputStats> outputs() {
    return outputs;
  }

  /** Where the answers part most (the largest error/allowed ratio seen), or null when every answer was exact. */
  public Worst worst() {
    return worst;
  }

  /** The cases where some output left its rule, in the order judged. */
  public List<String> failedCases() {
    return List.copyOf(failedCases);
  }

  /** The first structural problem (missing output, shape, NaN, runtime error), or null. */
  public String error() {
    return error;
  }

  @Override
  public String toString() {
    return String.format("%s max abs %.1e (eager %.1e) worst ratio %.2g over %d case(s)%s",
        passed ? "pass" : "FAIL", maxAbsErr(), eagerAbsErr(), worstRatio(), cases, error == null ? "" : ": " + error);
  }
}
