package org.exportpipeline.harness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Parity of real exported artifacts from pure Java: the pattern a JVM service can copy into its CI.
 * Reads the folder given by -Dartifacts (make test-java exports mlp there first).
 */
class SelfCheckTest {
  private static final Path ARTIFACTS = Path.of(System.getProperty("artifacts", "../artifacts"));

  private static Path mlp() {
    Path dir = ARTIFACTS.resolve("mlp");
    assertTrue(Files.isRegularFile(dir.resolve(Manifest.FILE)),
        "no exported mlp under " + ARTIFACTS.toAbsolutePath() + ": run `make test-java`, or pass -Dartifacts=DIR");
    return dir;
  }

  @Test
  void onnxAndTorchScriptMatchGoldenOutputs() throws Exception {
    List<SelfCheck.Result> results = checkOrtAndDjl(mlp());
    Set<String> runtimes = results.stream().map(SelfCheck.Result::runtime).collect(Collectors.toSet());
    assertEquals(Set.of("onnxruntime-java", "djl-pytorch"), runtimes);
    for (SelfCheck.Result result : results) {
      assertTrue(result.parity().passed(), result.toString());
      assertTrue(result.parity().cases() >= 2, "expected at least two golden cases: " + result);
      assertTrue(result.parity().maxAbsErr() <= 1e-5, result.toString());
    }
  }

  @Test
  void alteredGoldenOutputFailsParity(@TempDir Path tmp) throws Exception {
    Path copy = tmp.resolve("mlp");
    copyTree(mlp(), copy);
    Manifest manifest = Manifest.read(copy);
    String output = manifest.outputNames().get(0);
    Path golden = copy.resolve("golden/case0/outputs/" + output + ".npy");
    try (RandomAccessFile file = new RandomAccessFile(golden.toFile(), "rw")) {
      file.seek(file.length() - 4); // the last float32, a sigmoid output in (0, 1)
      file.write(new byte[] {0, 0, (byte) 0x80, (byte) 0xbf}); // -1.0f, little-endian
    }
    for (SelfCheck.Result result : checkOrtAndDjl(copy)) {
      assertFalse(result.parity().passed(), "tampered golden output still passed: " + result);
      assertTrue(result.parity().maxAbsErr() > 0.1, result.toString());
    }
  }

  /** ONNX Runtime and DJL share a JVM; the libtorch 2.13 engine has tests of its own, in its own JVM. */
  private static List<SelfCheck.Result> checkOrtAndDjl(Path modelDir) throws Exception {
    List<SelfCheck.Result> results = new ArrayList<>(SelfCheck.check(modelDir, "onnxruntime-java"));
    results.addAll(SelfCheck.check(modelDir, "djl-pytorch"));
    return results;
  }

  private static void copyTree(Path from, Path to) throws IOException {
    try (Stream<Path> paths = Files.walk(from)) {
      for (Path path : (Iterable<Path>) paths::iterator) {
        Path target = to.resolve(from.relativize(path).toString());
        if (Files.isDirectory(path)) {
          Files.createDirectories(target);
        } else {
          Files.copy(path, target);
        }
      }
    }
  }
}
