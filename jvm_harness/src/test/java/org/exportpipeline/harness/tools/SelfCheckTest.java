package org.exportpipeline.harness.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.exportpipeline.harness.ChildJvm;
import org.exportpipeline.harness.Runners;
import org.exportpipeline.harness.contract.ContractException;
import org.exportpipeline.harness.contract.Folders;
import org.exportpipeline.harness.contract.Manifest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Parity and integrity of real exported artifacts from pure Java, through real runtimes: the
 * pattern a JVM service can copy into its CI. Reads the folders given by -Dartifacts (make
 * test-java exports mlp and cnn there first) and tampers with copies of them.
 */
class SelfCheckTest {
  private static final Path ARTIFACTS = Path.of(System.getProperty("artifacts", "../artifacts"));

  @TempDir Path tmp;

  private static Path exported(String model) {
    Path dir = ARTIFACTS.resolve(model);
    assertTrue(Files.isRegularFile(dir.resolve(Manifest.FILE)),
        "no exported " + model + " under " + ARTIFACTS.toAbsolutePath() + ": run `make test-java`, or pass -Dartifacts=DIR");
    return dir;
  }

  private Path copy(String model) throws IOException {
    Path copy = tmp.resolve(model);
    Folders.copyTree(exported(model), copy);
    return copy;
  }

  /** In-process engines of this test JVM: ONNX Runtime and DJL share a JVM; JavaCPP's libtorch may not join them. */
  private static final List<String> ENGINES = List.of("onnxruntime", "djl-pytorch");
  /** Every runtime on the classpath, as main() runs them (one child JVM per engine). */
  private static final Set<String> ALL_RUNTIMES =
      Set.of("onnxruntime-java", "djl-pytorch", "libtorch-javacpp", "libtorch-aoti", "openvino-c-jna", "executorch-jni");

  private static List<CheckResult> check(Path dir) throws ContractException {
    List<CheckResult> results = new ArrayList<>();
    for (String engine : ENGINES) {
      results.addAll(ModelCheck.check(new ModelCheck.Target(dir, null), engine, ConcurrencyCheck.DEFAULT_CALLERS));
    }
    return results;
  }

  @Test
  void runnersAreFoundWithServiceLoaderOneEngineEach() {
    Set<String> engines = Runners.of(null).stream().map(r -> r.format() + ":" + r.engine()).collect(Collectors.toSet());
    assertEquals(Set.of("onnx:onnxruntime", "torchscript:djl-pytorch", "torchscript:libtorch-javacpp", "aoti:libtorch-javacpp",
        "openvino:openvino", "executorch:executorch"), engines);
    assertEquals(1, Runners.of("onnxruntime").size());
  }

  @Test
  void onnxAndTorchScriptMatchTheReference() throws Exception {
    List<CheckResult> results = check(exported("mlp"));
    assertEquals(Set.of("onnxruntime-java", "djl-pytorch"), results.stream().map(CheckResult::runtime).collect(Collectors.toSet()));
    for (CheckResult result : results) {
      JsonObject v = result.verification();
      assertTrue(result.passed(), result.toString());
      assertTrue(v.get("cases").getAsInt() >= 2, result.toString());
      assertTrue(v.get("worst_ratio").getAsDouble() <= 1, result.toString());
      assertTrue(v.get("load_ms").getAsDouble() > 0 && v.get("first_run_ms").getAsDouble() > 0, result.toString());
      assertEquals("jvm", v.get("side").getAsString());
      JsonObject concurrency = v.getAsJsonObject("concurrency");
      assertEquals(4, concurrency.get("callers").getAsInt(), result.toString());
      // every golden case twice per caller: mlp has 4 cases (example, min, max, interior)
      assertEquals(4 * ConcurrencyCheck.ROUNDS * v.get("cases").getAsInt(), concurrency.get("calls").getAsInt(), result.toString());
      assertEquals(0, concurrency.get("failures").getAsInt(), result.toString());
      assertEquals(0, concurrency.get("mismatches").getAsInt(), result.toString());
      assertTrue(concurrency.get("passed").getAsBoolean(), result.toString());
    }
  }

  @Test
  void alteredGoldenOutputWithHonestHashesFailsParity() throws Exception {
    Path copy = copy("mlp");
    JsonObject golden = Folders.manifest(copy).getAsJsonObject("golden");
    JsonObject case0 = golden.getAsJsonArray("cases").get(0).getAsJsonObject();
    String role = case0.has("reference") ? "reference" : "outputs";
    String rel = case0.getAsJsonObject(role).entrySet().iterator().next().getValue().getAsString();
    try (RandomAccessFile file = new RandomAccessFile(copy.resolve(rel).toFile(), "rw")) {
      long width = role.equals("reference") ? 8 : 4;
      file.seek(file.length() - width); // the last element, a sigmoid output in (0, 1)
      file.write(role.equals("reference") ? new byte[] {0, 0, 0, 0, 0, 0, (byte) 0xf0, (byte) 0xbf} : new byte[] {0, 0, (byte) 0x80, (byte) 0xbf});
    }
    Folders.editManifest(copy, json -> Folders.rehashGolden(copy, json));
    for (CheckResult result : check(copy)) {
      assertFalse(result.passed(), "altered reference still passed: " + result);
      assertTrue(result.verification().get("max_abs_err").getAsDouble() > 1, result.toString());
    }
  }

  @Test
  void byteAppendedToTheModelIsRefused() throws Exception {
    Path copy = copy("mlp");
    Files.write(copy.resolve("torchscript/model.pt"), new byte[] {0}, StandardOpenOption.APPEND);
    String message = assertThrows(ContractException.class, () -> check(copy)).getMessage();
    assertTrue(message.contains("torchscript/model.pt is altered"), message);
  }

  @Test
  void modelAndGoldenSwappedForAnotherModelsAreRefused() throws Exception {
    Path mlp = copy("mlp");
    Path cnn = exported("cnn");
    Files.copy(cnn.resolve("torchscript/model.pt"), mlp.resolve("torchscript/model.pt"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    Folders.copyTree(cnn.resolve("golden"), tmp.resolve("cnn-golden"));
    try (var files = Files.walk(tmp.resolve("cnn-golden"))) {
      for (Path file : (Iterable<Path>) files::iterator) {
        Path target = mlp.resolve("golden").resolve(tmp.resolve("cnn-golden").relativize(file).toString());
        if (Files.isRegularFile(file) && Files.exists(target)) {
          Files.copy(file, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
    String message = assertThrows(ContractException.class, () -> check(mlp)).getMessage();
    assertTrue(message.contains("is altered"), message);
  }

  @Test
  void aWholeFolderSwappedWithItsManifestIsCaughtByThePin() throws Exception {
    String mlpDigest = Folders.sha256(Files.readAllBytes(exported("mlp").resolve(Manifest.FILE)));
    Path swapped = copy("cnn"); // another model's consistent folder where mlp's should be
    String message = assertThrows(ContractException.class,
        () -> ModelCheck.check(new ModelCheck.Target(swapped, mlpDigest), "onnxruntime", ConcurrencyCheck.DEFAULT_CALLERS)).getMessage();
    assertTrue(message.contains("not the pinned " + mlpDigest), message);
  }

  // main() in a child JVM, as a deployment image runs it: exit codes and one-line messages.
  private record Run(int code, String stdout, String stderr) {}

  private static Run selfCheck(String... args) throws Exception {
    Process process = ChildJvm.of(SelfCheck.class, args).start();
    byte[] stdout = process.getInputStream().readAllBytes();
    String stderr = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    return new Run(process.waitFor(), new String(stdout, StandardCharsets.UTF_8), stderr);
  }

  @Test
  void mainRunsOneJvmPerEngineAndPinsTheManifest() throws Exception {
    Path mlp = exported("mlp");
    String digest = Folders.sha256(Files.readAllBytes(mlp.resolve(Manifest.FILE)));
    Run run = selfCheck("--json", "--callers", "2", "--manifest-sha256", digest, mlp.toString());
    assertEquals(0, run.code(), run.stderr());
    var results = JsonParser.parseString(run.stdout()).getAsJsonArray();
    assertEquals(ALL_RUNTIMES.size(), results.size(), run.stdout());
    Set<String> runtimes = new java.util.HashSet<>();
    results.forEach(r -> runtimes.add(r.getAsJsonObject().get("runtime").getAsString()));
    for (var result : results) { // the child JVMs were given --callers too
      JsonObject concurrency = result.getAsJsonObject().getAsJsonObject("verification").getAsJsonObject("concurrency");
      assertEquals(2, concurrency.get("callers").getAsInt(), concurrency.toString());
      assertEquals(2 * ConcurrencyCheck.ROUNDS * 4, concurrency.get("calls").getAsInt(), concurrency.toString());
      assertEquals(0, concurrency.get("failures").getAsInt() + concurrency.get("mismatches").getAsInt(), concurrency.toString());
    }
    assertEquals(ALL_RUNTIMES, runtimes);
  }

  @Test
  void mainRefusesBadInputWithOneLineAndExitTwo() throws Exception {
    Path mlp = copy("mlp");
    Files.write(mlp.resolve("torchscript/model.pt"), new byte[] {0}, StandardOpenOption.APPEND);
    assertOneLineRefusal(selfCheck(mlp.toString()), "torchscript/model.pt is altered");

    Path truncated = copy("cnn");
    byte[] bytes = Files.readAllBytes(truncated.resolve(Manifest.FILE));
    Files.write(truncated.resolve(Manifest.FILE), java.util.Arrays.copyOf(bytes, bytes.length - 10));
    assertOneLineRefusal(selfCheck(truncated.toString()), "is not valid JSON");

    assertOneLineRefusal(selfCheck("--manifest-sha256", "0".repeat(64), exported("mlp").toString()), "not the pinned");
    assertOneLineRefusal(selfCheck("--manifest-sha256", "abc", exported("mlp").toString()), "is not a sha256");
    assertOneLineRefusal(selfCheck(tmp.resolve("nothing").toString()), "not found");
    assertOneLineRefusal(selfCheck("--callers", "0", exported("mlp").toString()), "not a positive whole number");
    assertOneLineRefusal(selfCheck(), "usage");
  }

  @Test
  void mainWithNothingToCheckIsNotASuccess() throws Exception {
    Path mlp = copy("mlp");
    Folders.editManifest(mlp, json -> json.getAsJsonObject("formats").entrySet().forEach(e -> e.getValue().getAsJsonObject().addProperty("status", "failed")));
    assertOneLineRefusal(selfCheck(mlp.toString()), "nothing checked");
  }

  private static void assertOneLineRefusal(Run run, String expected) {
    assertEquals(2, run.code(), run.stdout() + run.stderr());
    assertTrue(run.stderr().contains(expected), run.stderr());
    assertEquals(1, run.stderr().strip().lines().count(), run.stderr());
    assertTrue(run.stderr().startsWith("error: "), run.stderr());
  }
}
