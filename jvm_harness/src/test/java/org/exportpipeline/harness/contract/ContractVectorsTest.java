package org.exportpipeline.harness.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.exportpipeline.harness.tools.ModelCheck;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The shared contract vectors through the Java reader, with the expected outcomes tests/test_contract_vectors.py
 * holds the Python reader to. `make test-java` writes the folders (tests/contract_vectors/generate.py) into the
 * contractVectors property's folder.
 */
class ContractVectorsTest {
  private static final Path EXPECTED = Path.of("../tests/contract_vectors/expected.json");
  private static final Path VECTORS = Path.of(System.getProperty("contractVectors", "target/contract-vectors"));

  private static JsonObject expected() throws IOException {
    return JsonParser.parseString(Files.readString(EXPECTED)).getAsJsonObject();
  }

  /** Exit 2 with the one-line error, or exit 0 with the formats a verdict is due for. */
  private record Answer(int exit, String error, List<String> verdicts) {}

  /** What SelfCheck does before a runtime opens a file (Manifest.checked), for every format exported. */
  private static Answer read(Path modelDir) {
    try {
      Manifest manifest = Manifest.read(modelDir, null);
      List<String> due = new ArrayList<>();
      for (String format : manifest.formatNames()) {
        if (manifest.exported(format)) {
          due.add(format);
        }
      }
      manifest.checked(due);
      manifest.parity();
      return new Answer(0, null, due);
    } catch (ContractException e) {
      return new Answer(2, e.getMessage(), List.of());
    }
  }

  @TestFactory
  Stream<DynamicTest> contractVectors() throws IOException {
    assertTrue(Files.isDirectory(VECTORS), VECTORS + " is missing: run tests/contract_vectors/generate.py into it (make test-java does)");
    return expected().getAsJsonObject("contract").entrySet().stream().map(vector -> DynamicTest.dynamicTest(vector.getKey(), () -> {
      JsonObject want = vector.getValue().getAsJsonObject();
      Answer answer = read(VECTORS.resolve(vector.getKey()).resolve("vec"));
      assertEquals(want.get("exit").getAsInt(), answer.exit(), String.valueOf(answer.error()));
      if (answer.exit() == 0) {
        List<String> verdicts = new ArrayList<>();
        want.getAsJsonArray("verdicts").forEach(f -> verdicts.add(f.getAsString()));
        assertEquals(verdicts, answer.verdicts());
      } else {
        assertFalse(answer.error().contains("\n"), answer.error());
        assertTrue(answer.error().contains(want.get("error").getAsString()), answer.error());
        // SelfCheck itself (every runner on the classpath) refuses it with the same line, exit 2, before any
        // runtime opens a file: never a failed verdict.
        ModelCheck.Target target = new ModelCheck.Target(VECTORS.resolve(vector.getKey()).resolve("vec"), null);
        assertEquals(answer.error(), assertThrows(ContractException.class, () -> ModelCheck.check(target, null, 1)).getMessage());
      }
    }));
  }

  /** generate.py's fuzzed manifests: each ends in a one-line contract error or verdicts, never another exception. */
  @TestFactory
  Stream<DynamicTest> fuzzedManifests() throws IOException {
    try (Stream<Path> folders = Files.list(VECTORS.resolve("fuzz"))) {
      List<Path> sorted = folders.sorted().toList();
      assertEquals(200, sorted.size());
      return sorted.stream().map(folder -> DynamicTest.dynamicTest(folder.getFileName().toString(), () -> {
        Answer answer = read(folder.resolve("vec"));
        if (answer.exit() == 2) {
          assertFalse(answer.error().contains("\n"), answer.error());
        } else {
          Manifest manifest = Manifest.read(folder.resolve("vec"), null);
          Parity parity = new Parity(manifest.parity());
          for (Manifest.GoldenCase goldenCase : manifest.goldenCases()) {
            parity.add(goldenCase.name(), goldenCase.reference(), goldenCase.reference());
          }
          assertTrue(parity.passed(), parity.toString());
        }
      }));
    }
  }

  /** An input vector's tensor: {dtype, shape, fill, at: {flat index: value}}, as generate.input_arrays builds it. */
  private static Tensor inputTensor(String name, JsonObject spec) {
    Tensor.DType dtype = Tensor.DType.valueOf(spec.get("dtype").getAsString().toUpperCase(java.util.Locale.ROOT));
    long[] shape = shape(spec.getAsJsonArray("shape"), 0);
    int count = Math.toIntExact(Tensor.elementCount(shape));
    ByteBuffer data = ByteBuffer.allocateDirect(count * dtype.bytes()).order(ByteOrder.nativeOrder());
    long fill = spec.has("fill") ? spec.get("fill").getAsLong() : 0;
    for (int i = 0; i < count; i++) {
      put(data, dtype, i, fill);
    }
    if (spec.has("at")) {
      spec.getAsJsonObject("at").entrySet().forEach(e -> put(data, dtype, Integer.parseInt(e.getKey()), e.getValue().getAsLong()));
    }
    return new Tensor(name, dtype, shape, data);
  }

  private static void put(ByteBuffer data, Tensor.DType dtype, int index, long value) {
    switch (dtype) {
      case INT64 -> data.putLong(index * 8, value);
      case INT32 -> data.putInt(index * 4, Math.toIntExact(value));
      case FLOAT32 -> data.putFloat(index * 4, value);
      case FLOAT64 -> data.putDouble(index * 8, value);
      case BOOL -> data.put(index, (byte) value);
    }
  }

  /** What a service sends, checked against a vector's manifest: the same line check_inputs gives, or none. */
  @TestFactory
  Stream<DynamicTest> inputVectors() throws IOException {
    List<DynamicTest> tests = new ArrayList<>();
    for (JsonElement element : expected().getAsJsonArray("inputs")) {
      JsonObject v = element.getAsJsonObject();
      tests.add(DynamicTest.dynamicTest(v.get("name").getAsString(), () -> {
        InputCheck check = new InputCheck(Manifest.read(VECTORS.resolve(v.get("manifest").getAsString()).resolve("vec"), null));
        java.util.Optional<String> want = v.get("problem").isJsonNull()
            ? java.util.Optional.empty() : java.util.Optional.of(v.get("problem").getAsString());
        if (v.has("shape")) {
          JsonObject asked = v.getAsJsonObject("shape");
          Tensor.DType dtype = Tensor.DType.valueOf(asked.get("dtype").getAsString().toUpperCase(java.util.Locale.ROOT));
          assertEquals(want, check.shapeProblem(asked.get("name").getAsString(), dtype, shape(asked.getAsJsonArray("shape"), 0)));
        } else {
          Map<String, Tensor> inputs = new java.util.LinkedHashMap<>();
          v.getAsJsonObject("inputs").entrySet().forEach(e -> inputs.put(e.getKey(), inputTensor(e.getKey(), e.getValue().getAsJsonObject())));
          assertEquals(want, check.problem(inputs));
        }
      }));
    }
    return tests.stream();
  }

  private static Tensor tensor(double... values) {
    ByteBuffer data = ByteBuffer.allocateDirect(values.length * Double.BYTES).order(ByteOrder.nativeOrder());
    for (double value : values) {
      data.putDouble(value);
    }
    return new Tensor("y", Tensor.DType.FLOAT64, new long[] {values.length}, data.flip());
  }

  @TestFactory
  Stream<DynamicTest> parityVectors() throws IOException {
    List<DynamicTest> tests = new ArrayList<>();
    for (JsonElement element : expected().getAsJsonArray("parity")) {
      JsonObject v = element.getAsJsonObject();
      tests.add(DynamicTest.dynamicTest(v.get("name").getAsString(), () -> {
        Parity.Rule rule = new Parity.EagerBound(v.get("factor").getAsDouble(), v.get("floor_ulps").getAsDouble(), v.get("eps").getAsDouble(),
            Map.of("c0", new Parity.CaseBound(v.get("eager_err").getAsDouble(), v.get("scale").getAsDouble())));
        Parity parity = new Parity(new Parity.Spec(Map.of("y", rule)));
        double scale = v.get("scale").getAsDouble();
        // The error sits where the reference is 0, so it is exactly err; the scale sits beside it.
        parity.add("c0", Map.of("y", tensor(v.get("err").getAsDouble(), scale)), Map.of("y", tensor(0.0, scale)));
        assertEquals(v.get("pass").getAsBoolean(), parity.passed());
        double ratio = v.get("ratio").isJsonNull() ? Double.POSITIVE_INFINITY : v.get("ratio").getAsDouble();
        assertEquals(ratio, parity.worstRatio());
      }));
    }
    return tests.stream();
  }

  /** A JSON shape's sizes, each named dim at size named. */
  private static long[] shape(com.google.gson.JsonArray dims, long named) {
    long[] shape = new long[dims.size()];
    for (int axis = 0; axis < shape.length; axis++) {
      JsonElement dim = dims.get(axis);
      shape[axis] = dim.getAsJsonPrimitive().isNumber() ? dim.getAsLong() : named;
    }
    return shape;
  }

  /** A counts vector's answers (generate.count_arrays): every output zeros, rows along its data-decided dims. */
  private static Map<String, Tensor> countTensors(Path modelDir, int rows) throws IOException {
    JsonObject manifest = Folders.manifest(modelDir);
    Map<String, Tensor> tensors = new java.util.LinkedHashMap<>();
    for (JsonElement element : manifest.getAsJsonArray("outputs")) {
      JsonObject io = element.getAsJsonObject();
      long[] shape = shape(io.getAsJsonArray("shape"), rows);
      Tensor.DType dtype = Tensor.DType.valueOf(io.get("dtype").getAsString().toUpperCase(java.util.Locale.ROOT));
      String name = io.get("name").getAsString();
      tensors.put(name, new Tensor(name, dtype, shape,
          ByteBuffer.allocateDirect(Math.toIntExact(Tensor.elementCount(shape)) * dtype.bytes()).order(ByteOrder.nativeOrder())));
    }
    return tensors;
  }

  /** Answers with another number of detections than the reference: the one line parity.py gives too. */
  @TestFactory
  Stream<DynamicTest> countsVectors() throws IOException {
    List<DynamicTest> tests = new ArrayList<>();
    for (JsonElement element : expected().getAsJsonArray("counts")) {
      JsonObject v = element.getAsJsonObject();
      tests.add(DynamicTest.dynamicTest(v.get("name").getAsString(), () -> {
        Path modelDir = VECTORS.resolve(v.get("manifest").getAsString()).resolve("vec");
        Parity parity = new Parity(Manifest.read(modelDir, null).parity());
        parity.add("c0", countTensors(modelDir, v.get("artifact_rows").getAsInt()), countTensors(modelDir, v.get("reference_rows").getAsInt()));
        String want = v.get("error").isJsonNull() ? null : v.get("error").getAsString();
        assertEquals(want, parity.error());
        assertEquals(want == null, parity.passed());
      }));
    }
    return tests.stream();
  }

  /** A runtime's answer beyond the bound of a dim the data decides is refused in one line; the bound itself passes. */
  @org.junit.jupiter.api.Test
  void outputsBeyondTheirDataBoundAreRefused() throws Exception {
    Path modelDir = VECTORS.resolve("detector_valid").resolve("vec");
    OutputCheck check = new OutputCheck(Manifest.read(modelDir, null));
    assertEquals(java.util.Optional.empty(), check.problem(countTensors(modelDir, 20)));
    assertEquals(java.util.Optional.of("output boxes has 21 along dim 0 (detections), more than the manifest's bound of 20: "
        + "re-export with the model's true bound"), check.problem(countTensors(modelDir, 21)));
  }
}
