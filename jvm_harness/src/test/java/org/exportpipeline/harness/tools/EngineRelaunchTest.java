package org.exportpipeline.harness.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.exportpipeline.harness.contract.Manifest;
import org.junit.jupiter.api.Test;

/**
 * What SelfCheck records and prints when an engine's child JVM dies. The child really dying is
 * tests/test_engine_crash.py's (an OpenVINO C library that aborts as it loads); here, the pieces:
 * the JVM's fatal-error banner as HotSpot 17 printed it there, the command line, the crashed result.
 */
class EngineRelaunchTest {
  private static final Path ARTIFACTS = Path.of(System.getProperty("artifacts", "../artifacts"));
  private static final String BANNER = String.join("\n",
      "#",
      "# A fatal error has been detected by the Java Runtime Environment:",
      "#",
      "#  SIGSEGV (0xb) at pc=0x00007f8bf015f17a, pid=11072, tid=11074",
      "#",
      "# JRE version: OpenJDK Runtime Environment (17.0.15+6) (build 17.0.15+6-Debian-1deb12u1)",
      "# Problematic frame:",
      "# C  [libopenvino_c.so.2641+0x117a]  die+0x41",
      "#",
      "# An error report file with more information is saved as:",
      "# /tmp/hs_err_pid11072.log",
      "#");

  @Test
  void theJvmsFatalErrorBannerIsSummarizedInThreeLines() {
    assertEquals(List.of("SIGSEGV (0xb) at pc=0x00007f8bf015f17a, pid=11072, tid=11074", "C  [libopenvino_c.so.2641+0x117a]  die+0x41",
        "hs_err: /tmp/hs_err_pid11072.log"), EngineRelaunch.hsErrSummary("[{\"partial\n" + BANNER));
    assertEquals(List.of(), EngineRelaunch.hsErrSummary("free(): double free detected in tcache 2"));
  }

  @Test
  void theReproduceCommandIsTheChildsLessJsonQuotedForAShell() {
    assertEquals("/usr/bin/java -cp 'target/lib/core/*:a b.jar' org.Main --engine openvino 'it'\\''s/mlp'",
        EngineRelaunch.reproduce(List.of("/usr/bin/java", "-cp", "target/lib/core/*:a b.jar", "org.Main", "--json", "--engine", "openvino", "it's/mlp")));
  }

  @Test
  void aCrashedResultFailsAndCrossesARelaunchAsJson() throws Exception {
    Path mlp = ARTIFACTS.resolve("mlp");
    assertTrue(Files.isRegularFile(mlp.resolve(Manifest.FILE)), "no exported mlp under " + ARTIFACTS.toAbsolutePath() + ": run `make test-java`");
    CheckResult crashed = CheckResult.crashed(Manifest.read(mlp, null), "openvino", "openvino-c-jna", null, 3, List.of("last words"),
        "the JVM for engine openvino died with exit code 3 (last words): reproduce with `java ...`");
    CheckResult back = CheckResult.fromJson(CheckResult.toJson(List.of(crashed))).get(0);
    assertFalse(back.passed());
    JsonObject how = back.verification().getAsJsonObject("crashed");
    assertTrue(how.get("signal").isJsonNull(), how.toString()); // recorded as null, as the JPype driver records it
    assertEquals(3, how.get("exit_code").getAsInt());
    assertEquals("last words", how.getAsJsonArray("last_lines").get(0).getAsString());
    assertTrue(back.toString().contains("CRASHED: the JVM for engine openvino died with exit code 3 (last words)"), back.toString());
    assertFalse(back.toString().contains("reproduce with"), back.toString());
  }
}
