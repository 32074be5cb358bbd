package org.exportpipeline.harness.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Schema 2 manifests built by hand in a temp folder (real files, real hashes): golden cases with a
 * float64 reference, the parity section, and every way a manifest path or file can be refused.
 */
class ManifestTest {
  @TempDir Path tmp;
  Path model;

  @BeforeEach
  void writeModel() throws IOException {
    model = tmp.resolve("tiny");
    Files.createDirectories(model.resolve("golden/case0"));
    Files.createDirectories(model.resolve("onnx"));
    Files.write(model.resolve("golden/case0/x.npy"), Folders.npyFloats(1f, 2f));
    Files.write(model.resolve("golden/case0/y.npy"), Folders.npyFloats(0.5f));
    Files.write(model.resolve("golden/case0/y64.npy"), Folders.npyDoubles(0.5000001));
    Files.writeString(model.resolve("onnx/model.onnx"), "not read by this test");
    JsonObject manifest = JsonParser.parseString("""
        {"schema_version": 3, "model": "tiny", "source": "zoo:tiny",
         "inputs": [{"name": "x", "dtype": "float32", "shape": [1, 2]}],
         "outputs": [{"name": "y", "dtype": "float32", "shape": [1, 1]}],
         "golden": {"cases": [{"name": "case0", "inputs": {"x": "golden/case0/x.npy"},
                               "outputs": {"y": "golden/case0/y.npy"}, "reference": {"y": "golden/case0/y64.npy"},
                               "shapes": {"x": [1, 2], "y": [1, 1]}}], "files": []},
         "parity": {"reference": "float64", "outputs": {"y": {"rule": "eager_bound", "factor": 2, "floor_ulps": 8,
                    "eps": 1.1920928955078125e-07, "cases": {"case0": {"eager_err": 1e-7, "scale": 0.5}}}}},
         "formats": {"onnx": {"status": "ok", "files": [], "main": "model.onnx", "settings": {}, "verification": {}}}}
        """).getAsJsonObject();
    Files.writeString(model.resolve(Manifest.FILE), manifest.toString());
    Folders.editManifest(model, json -> {
      Folders.rehashGolden(model, addAll(json, "golden/case0/x.npy", "golden/case0/y.npy", "golden/case0/y64.npy"));
      try {
        json.getAsJsonObject("formats").getAsJsonObject("onnx").getAsJsonArray("files").add(Folders.fileEntry(model, "onnx/model.onnx"));
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    });
  }

  private static JsonObject addAll(JsonObject json, String... paths) {
    JsonArray files = json.getAsJsonObject("golden").getAsJsonArray("files");
    for (String path : paths) {
      JsonObject entry = new JsonObject();
      entry.addProperty("path", path);
      files.add(entry);
    }
    return json;
  }

  private String refusal(String pin) {
    return assertThrows(ContractException.class, () -> {
      Manifest manifest = Manifest.read(model, pin);
      manifest.verifyFormat("onnx");
      manifest.goldenCases();
      manifest.parity();
    }).getMessage();
  }

  private void setGoldenPath(String path, long bytes) throws IOException {
    Folders.editManifest(model, json -> {
      JsonObject entry = json.getAsJsonObject("golden").getAsJsonArray("files").get(2).getAsJsonObject();
      entry.addProperty("path", path);
      entry.addProperty("bytes", bytes);
      json.getAsJsonObject("golden").getAsJsonArray("cases").get(0).getAsJsonObject()
          .getAsJsonObject("reference").addProperty("y", path);
    });
  }

  @Test
  void formatsWithProblemsAreVerifiedAsPythonVerifiesThem() throws IOException {
    for (String status : List.of("ok", "problems", "failed")) {
      Folders.editManifest(model, json ->
          json.getAsJsonObject("formats").getAsJsonObject("onnx").addProperty("status", status));
      assertEquals(!status.equals("failed"), Manifest.read(model, null).exported("onnx"), status);
    }
  }

  @Test
  void readsCasesReferenceAndRules() throws IOException {
    Manifest manifest = Manifest.read(model, null);
    manifest.verifyFormat("onnx");
    List<Manifest.GoldenCase> cases = manifest.goldenCases();
    assertEquals(1, cases.size());
    Tensor reference = cases.get(0).reference().get("y");
    assertEquals(Tensor.DType.FLOAT64, reference.dtype());
    assertEquals(0.5000001, reference.get(0), 0);
    assertEquals(0.5f, cases.get(0).outputs().get("y").get(0), 0);
    Parity.EagerBound rule = (Parity.EagerBound) manifest.parity().rules().get("y");
    assertEquals(1e-7, rule.cases().get("case0").eagerErr(), 0);

    Parity parity = new Parity(manifest.parity());
    parity.add("case0", cases.get(0).outputs(), cases.get(0).reference()); // eager fp32 against float64: 1e-7 off
    assertTrue(parity.passed(), parity.toString());
  }

  @Test
  void manifestDigestPinIsChecked() throws IOException {
    String digest = Folders.sha256(Files.readAllBytes(model.resolve(Manifest.FILE)));
    assertEquals(digest, Manifest.read(model, digest.toUpperCase()).sha256());
    assertTrue(refusal("0".repeat(64)).contains("not the pinned"), refusal("0".repeat(64)));
  }

  @Test
  void appendedByteIsRefusedBeforeAnyRuntimeOpensTheFormat() throws IOException {
    Files.writeString(model.resolve("onnx/model.onnx"), "!", java.nio.file.StandardOpenOption.APPEND);
    String message = refusal(null);
    assertTrue(message.contains("onnx/model.onnx is altered") && message.contains("re-export"), message);
  }

  @Test
  void sameSizeDifferentContentIsRefusedByDigest() throws IOException {
    byte[] y = Files.readAllBytes(model.resolve("golden/case0/y.npy"));
    y[y.length - 1] ^= 1;
    Files.write(model.resolve("golden/case0/y.npy"), y);
    assertTrue(refusal(null).contains("sha256"), refusal(null));
  }

  @Test
  void pathsLeavingTheModelFolderAreRefused() throws IOException {
    Files.createDirectories(tmp.resolve("outside"));
    Files.write(tmp.resolve("outside/x.npy"), Folders.npyDoubles(0.5));
    setGoldenPath("../outside/x.npy", 136);
    assertTrue(refusal(null).contains("leads out of the model folder"), refusal(null));
    setGoldenPath("/etc/passwd", Files.size(Path.of("/etc/passwd")));
    assertTrue(refusal(null).contains("is not a relative path"), refusal(null));
    Files.createSymbolicLink(model.resolve("golden/link.npy"), tmp.resolve("outside/x.npy"));
    setGoldenPath("golden/link.npy", 136);
    assertTrue(refusal(null).contains("symlink leading out"), refusal(null));
  }

  @Test
  void devicesAreNeverRead() throws IOException {
    Files.createSymbolicLink(model.resolve("golden/zero.npy"), Path.of("/dev/zero"));
    setGoldenPath("golden/zero.npy", 1L << 40);
    assertTrue(refusal(null).contains("symlink leading out"), refusal(null));
    setGoldenPath("/dev/zero", 1L << 40);
    assertTrue(refusal(null).contains("is not a relative path"), refusal(null));
  }

  @Test
  void sizeIsCheckedBeforeReading() throws IOException {
    setGoldenPath("golden/case0/y64.npy", 1L << 40);
    String message = refusal(null);
    assertTrue(message.contains("bytes, the manifest records 1099511627776"), message);
  }

  @Test
  void truncatedOrMalformedManifestsGiveOneLine() throws IOException {
    byte[] bytes = Files.readAllBytes(model.resolve(Manifest.FILE));
    Files.write(model.resolve(Manifest.FILE), java.util.Arrays.copyOf(bytes, bytes.length / 2));
    String truncated = refusal(null);
    assertTrue(truncated.contains("is not valid JSON") && !truncated.contains("\n"), truncated);

    Files.write(model.resolve(Manifest.FILE), bytes);
    Folders.editManifest(model, json -> json.remove("golden"));
    assertTrue(refusal(null).contains("manifest.json lacks golden: the file is damaged or not ours"), refusal(null));

    Files.write(model.resolve(Manifest.FILE), bytes);
    Folders.editManifest(model, json -> json.getAsJsonObject("parity").getAsJsonObject("outputs").getAsJsonObject("y").addProperty("rule", "close_enough"));
    assertTrue(refusal(null).contains("field parity.outputs.y is malformed"), refusal(null));

    Files.write(model.resolve(Manifest.FILE), bytes);
    Folders.editManifest(model, json -> json.addProperty("schema_version", 2));
    assertTrue(refusal(null).contains("has schema 2, expected 3: re-export"), refusal(null));
  }

  @Test
  void formatFilesMustLieInTheFormatFolder() throws IOException {
    Folders.editManifest(model, json -> {
      JsonObject entry = json.getAsJsonObject("formats").getAsJsonObject("onnx").getAsJsonArray("files").get(0).getAsJsonObject();
      entry.addProperty("path", "golden/case0/x.npy");
    });
    assertTrue(refusal(null).contains("outside the onnx/ folder"), refusal(null));
  }
}
