package org.exportpipeline.harness;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The Java reading of artifacts/MODEL/manifest.json (schema in docs/manifest.md). */
public final class Manifest {
  public static final int SCHEMA_VERSION = 2;
  public static final String FILE = "manifest.json";

  private final Path modelDir;
  private final JsonObject json;

  private Manifest(Path modelDir, JsonObject json) {
    this.modelDir = modelDir;
    this.json = json;
  }

  public static Manifest read(Path modelDir) throws IOException {
    Path file = modelDir.resolve(FILE);
    if (!Files.isRegularFile(file)) {
      throw new IOException(file + " not found: run `python -m exporters export MODEL` first");
    }
    JsonObject json = JsonParser.parseString(Files.readString(file)).getAsJsonObject();
    int schema = json.get("schema_version").getAsInt();
    if (schema != SCHEMA_VERSION) {
      throw new IOException(file + " has schema " + schema + ", expected " + SCHEMA_VERSION + ": re-export");
    }
    return new Manifest(modelDir, json);
  }

  public String model() {
    return json.get("model").getAsString();
  }

  public List<String> inputNames() {
    return names("inputs");
  }

  public List<String> outputNames() {
    return names("outputs");
  }

  private List<String> names(String section) {
    List<String> names = new ArrayList<>();
    json.getAsJsonArray(section).forEach(io -> names.add(io.getAsJsonObject().get("name").getAsString()));
    return names;
  }

  /** True when the format was exported successfully. */
  public boolean exported(String format) {
    JsonObject entry = json.getAsJsonObject("formats").getAsJsonObject(format);
    return entry != null && "ok".equals(entry.get("status").getAsString());
  }

  public Path formatDir(String format) {
    return modelDir.resolve(format);
  }

  public double atol(String format) {
    return tolerance(format).get("atol").getAsDouble();
  }

  public double rtol(String format) {
    return tolerance(format).get("rtol").getAsDouble();
  }

  private JsonObject tolerance(String format) {
    JsonObject tolerance = json.getAsJsonObject("formats").getAsJsonObject(format).getAsJsonObject("tolerance");
    if (tolerance == null) { // schema 2 judges by per-output rules in "parity", which this Parity cannot apply yet
      throw new IllegalStateException(format + " has no fixed tolerance (schema 2 parity rules): the pure-Java parity"
          + " check does not read them yet; run `python -m jvm_harness verify` instead");
    }
    return tolerance;
  }

  /** A golden case: named inputs and the eager outputs they produced. */
  public record GoldenCase(String name, Map<String, Tensor> inputs, Map<String, Tensor> outputs) {}

  public List<GoldenCase> goldenCases() throws IOException {
    List<GoldenCase> cases = new ArrayList<>();
    for (JsonElement element : json.getAsJsonObject("golden").getAsJsonArray("cases")) {
      JsonObject entry = element.getAsJsonObject();
      cases.add(new GoldenCase(entry.get("name").getAsString(), tensors(entry, "inputs"), tensors(entry, "outputs")));
    }
    return cases;
  }

  private Map<String, Tensor> tensors(JsonObject goldenCase, String role) throws IOException {
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    for (Map.Entry<String, JsonElement> file : goldenCase.getAsJsonObject(role).entrySet()) {
      tensors.put(file.getKey(), Npy.read(modelDir.resolve(file.getValue().getAsString()), file.getKey()));
    }
    return tensors;
  }
}
