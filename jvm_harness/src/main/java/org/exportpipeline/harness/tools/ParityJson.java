package org.exportpipeline.harness.tools;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import org.exportpipeline.harness.contract.Parity;

/**
 * A parity verdict under the result keys the Python side writes too: passed, cases, max_abs_err,
 * eager_abs_err, worst_ratio, outputs, worst, failed_cases, error. Kept out of {@link Parity} so that the contract's
 * public types name no gson type. Thread-safe (stateless).
 */
final class ParityJson {
  private ParityJson() {}

  static JsonObject of(Parity parity) {
    JsonObject json = new JsonObject();
    json.addProperty("passed", parity.passed());
    json.addProperty("cases", parity.cases());
    json.addProperty("max_abs_err", parity.maxAbsErr());
    json.addProperty("eager_abs_err", parity.eagerAbsErr());
    json.addProperty("worst_ratio", parity.worstRatio());
    JsonObject perOutput = new JsonObject();
    parity.outputs().forEach((name, stats) -> {
      JsonObject one = new JsonObject();
      one.addProperty("max_abs_err", stats.maxAbsErr());
      one.addProperty("eager_abs_err", stats.eagerAbsErr());
      one.addProperty("worst_ratio", stats.worstRatio());
      perOutput.add(name, one);
    });
    json.add("outputs", perOutput);
    Parity.Worst worst = parity.worst();
    if (worst != null) {
      JsonObject one = new JsonObject();
      one.addProperty("case", worst.caseName());
      one.addProperty("at", worst.where());
      one.addProperty("output", worst.output());
      JsonArray index = new JsonArray();
      for (long i : worst.index()) {
        index.add(i);
      }
      one.add("index", index);
      one.addProperty("ratio", worst.ratio());
      one.addProperty("err", worst.err());
      json.add("worst", one);
    }
    if (!parity.failedCases().isEmpty()) {
      JsonArray failed = new JsonArray();
      parity.failedCases().forEach(failed::add);
      json.add("failed_cases", failed);
    }
    if (parity.error() != null) {
      json.addProperty("error", parity.error());
    }
    return json;
  }
}
