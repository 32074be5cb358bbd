package org.exportpipeline.harness.tools;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.exportpipeline.harness.contract.ContractException;
import org.exportpipeline.harness.contract.Manifest;

/**
 * One runner's verdict on one model: verification is what the manifest records under
 * formats.FORMAT.verification["jvm/RUNTIME"] (parity figures, runtime, version, java, timings), or
 * how the engine's JVM died before it answered ({@link #crashed}).
 * Crosses a relaunch as JSON: a child JVM prints its results, the parent reads them back.
 * Thread-safe once built (nothing changes its verification).
 */
record CheckResult(String modelDir, String model, String manifestSha256, String format, String runtime, JsonObject verification) {
  static final Gson GSON = new GsonBuilder().serializeSpecialFloatingPointValues().serializeNulls().create(); // crashed.signal: null

  boolean passed() {
    return verification.get("passed").getAsBoolean();
  }

  /**
   * A runner's failed result when its engine's JVM died: crashed holds the signal (null when it exited
   * with a code), the exit code (128 + N for signal N) and its last stderr lines (or the JVM's hs_err
   * summary); error is the one line that names what reproduces it. As the JPype driver records it.
   */
  static CheckResult crashed(Manifest manifest, String format, String runtime, String signal, int exitCode, List<String> lastLines,
      String error) throws ContractException {
    JsonObject crashed = new JsonObject();
    crashed.add("signal", signal == null ? JsonNull.INSTANCE : new JsonPrimitive(signal));
    crashed.addProperty("exit_code", exitCode);
    JsonArray lines = new JsonArray();
    lastLines.forEach(lines::add);
    crashed.add("last_lines", lines);
    JsonObject verification = new JsonObject();
    verification.addProperty("side", "jvm");
    verification.addProperty("runtime", runtime);
    verification.addProperty("passed", false);
    verification.add("crashed", crashed);
    verification.addProperty("error", error);
    return new CheckResult(manifest.modelDir().toString(), manifest.model(), manifest.sha256(), format, runtime, verification);
  }

  boolean isCrashed() {
    return verification.has("crashed");
  }

  JsonObject toJson() {
    JsonObject json = new JsonObject();
    json.addProperty("model_dir", modelDir);
    json.addProperty("model", model);
    json.addProperty("manifest_sha256", manifestSha256);
    json.addProperty("format", format);
    json.addProperty("runtime", runtime);
    json.add("verification", verification);
    return json;
  }

  static CheckResult fromJson(JsonObject json) {
    return new CheckResult(json.get("model_dir").getAsString(), json.get("model").getAsString(), json.get("manifest_sha256").getAsString(),
        json.get("format").getAsString(), json.get("runtime").getAsString(), json.getAsJsonObject("verification"));
  }

  /** Results as the JSON array that --json prints and the JPype driver reads. */
  static String toJson(List<CheckResult> results) {
    JsonArray array = new JsonArray();
    results.forEach(result -> array.add(result.toJson()));
    return GSON.toJson(array);
  }

  /** The results a --json run printed; a text that is no such array throws (JsonParseException, IllegalStateException, NullPointerException). */
  static List<CheckResult> fromJson(String text) {
    List<CheckResult> results = new ArrayList<>();
    for (JsonElement element : JsonParser.parseString(text).getAsJsonArray()) {
      results.add(fromJson(element.getAsJsonObject()));
    }
    return results;
  }

  @Override
  public String toString() {
    JsonObject v = verification;
    if (isCrashed()) {
      return String.format("%-12s %-12s %-17s CRASHED: %s", model, format, runtime, v.get("error").getAsString().split(": reproduce with ")[0]);
    }
    JsonObject c = v.getAsJsonObject("concurrency");
    return String.format("%-12s %-12s %-17s %s max abs %.1e (eager %.1e) worst ratio %.2g over %d case(s)%s (load %.0f ms, first run %.1f ms);"
            + " %d callers: %d calls, %d failed, %d mismatched (%.0f ms)%s",
        model, format, runtime, passed() ? "pass" : "FAIL", v.get("max_abs_err").getAsDouble(), v.get("eager_abs_err").getAsDouble(),
        v.get("worst_ratio").getAsDouble(), v.get("cases").getAsInt(), v.has("error") ? ": " + v.get("error").getAsString() : "",
        v.get("load_ms").getAsDouble(), v.get("first_run_ms").getAsDouble(), c.get("callers").getAsInt(), c.get("calls").getAsInt(),
        c.get("failures").getAsInt(), c.get("mismatches").getAsInt(), c.get("wall_ms").getAsDouble(),
        c.has("first_error") ? ": " + c.get("first_error").getAsString() : "") + (v.has("soak") ? soakLine(v.getAsJsonObject("soak")) : "")
        + (v.has("text") ? textLine(v.getAsJsonObject("text")) : "") + (passed() || v.has("error") ? "" : worstLine(v));
  }

  /** Where a failed verdict's answers part most, in the words of the Python side's console line. */
  private static String worstLine(JsonObject v) {
    if (!v.has("worst")) {
      return "";
    }
    JsonObject w = v.getAsJsonObject("worst");
    String at = w.get("at").getAsString();
    return String.format("; worst ratio %.3g to the allowed error at %s%s, output %s%s", w.get("ratio").getAsDouble(),
        w.get("case").getAsString(), at.isEmpty() ? "" : " (" + at + ")", w.get("output").getAsString(),
        w.getAsJsonArray("index").asList().stream().map(JsonElement::getAsString).collect(Collectors.joining(", ", "[", "]")));
  }

  private static String textLine(JsonObject t) {
    JsonObject c = t.getAsJsonObject("concurrency");
    return String.format("; text %s: %d texts, token ids %s, answers worst ratio %.2g (max abs %.1e), %d callers: %d calls, %d wrong%s",
        t.get("passed").getAsBoolean() ? "pass" : "FAIL", t.get("texts").getAsInt(), t.has("error") && t.get("error").getAsString().contains("differs at token")
            ? "DIFFER" : "exact", t.get("worst_ratio").getAsDouble(), t.get("max_abs_err").getAsDouble(), c.get("callers").getAsInt(),
        c.get("calls").getAsInt(), c.has("mismatches") ? c.get("mismatches").getAsInt() : 0,
        t.has("error") ? ": " + t.get("error").getAsString() : c.has("first_error") ? ": " + c.get("first_error").getAsString() : "");
  }

  private static String soakLine(JsonObject s) {
    return String.format("; soak %d callers %.0f s: %d calls (%.1f/s), %d wrong, %d failed, %d GCs, RSS %.0f -> %.0f MiB, slope %.1f MiB/min (%s)%s",
        s.get("callers").getAsInt(), s.get("seconds").getAsDouble(), s.get("calls").getAsInt(), s.get("calls_per_s").getAsDouble(),
        s.get("wrong").getAsInt(), s.get("failures").getAsInt(), s.get("gc_collections").getAsLong(), s.get("rss_start_mib").getAsDouble(),
        s.get("rss_end_mib").getAsDouble(), s.get("rss_slope_mib_per_min").getAsDouble(),
        s.get("rss_judged").getAsBoolean() ? String.format("max %.0f", s.get("rss_slope_max").getAsDouble()) : "not judged: under 60 s after warm-up",
        s.has("first_error") ? ": " + s.get("first_error").getAsString() : "");
  }
}
