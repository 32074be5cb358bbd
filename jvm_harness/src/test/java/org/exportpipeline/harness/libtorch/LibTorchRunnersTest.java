package org.exportpipeline.harness.libtorch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import com.google.gson.JsonArray;
import com.google.gson.JsonPrimitive;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.stream.Stream;
import org.exportpipeline.harness.contract.Manifest;
import org.exportpipeline.harness.Pool;
import org.exportpipeline.harness.RunnerChecks;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** AOTI and TorchScript on JavaCPP's libtorch 2.13 (one engine, one JVM). */
class LibTorchRunnersTest {

  @Test
  void aotiMatchesGoldenOutputsAndRefusesAWrongShape() throws Exception {
    Manifest mlp = RunnerChecks.model("mlp");
    try (AotiRunner runner = new AotiRunner()) {
      assertTrue(runner.version().startsWith("libtorch 2.13.0"), runner.version());
      assertTrue(RunnerChecks.goldenParity(runner, mlp).maxAbsErr() <= 1e-5);
      RunnerChecks.wrongShapeRaises(runner, mlp);
      RunnerChecks.stillRuns(runner, mlp);
    }
  }

  @Test
  void aotiUnpacksIntoAPrivateFolderThatCloseRemoves() throws Exception {
    Manifest mlp = RunnerChecks.model("mlp");
    String tmpdir = System.getenv("TMPDIR");
    AotiRunner runner = new AotiRunner();
    runner.open(mlp.formatDir("aoti"), mlp);
    Path unpacked = runner.unpackDir();
    try (Stream<Path> files = Files.walk(unpacked)) {
      assertTrue(files.anyMatch(p -> p.toString().endsWith(".so")), "no model library under " + unpacked);
    }
    runner.close();
    assertTrue(Files.notExists(unpacked), "close() left " + unpacked);
    assertEquals(tmpdir, System.getenv("TMPDIR"));
  }

  @Test
  void torchScriptMatchesGoldenOutputsAndRefusesAWrongShape() throws Exception {
    Manifest mlp = RunnerChecks.model("mlp");
    try (LibTorchScriptRunner runner = new LibTorchScriptRunner()) {
      assertEquals("libtorch-javacpp", runner.engine());
      assertTrue(RunnerChecks.goldenParity(runner, mlp).maxAbsErr() <= 1e-5);
      RunnerChecks.wrongShapeRaises(runner, mlp);
      RunnerChecks.stillRuns(runner, mlp);
    }
  }

  @Test
  void aotiServesFourCallersFromItsRunners() throws Exception {
    Manifest mlp = RunnerChecks.model("mlp");
    try (AotiRunner runner = new AotiRunner()) {
      runner.open(mlp.formatDir("aoti"), mlp);
      assertEquals(1, runner.runners()); // every core per call: calls take turns
      RunnerChecks.concurrentCallersAgree(runner, mlp);
    }
    try (AotiRunner runner = new AotiRunner()) {
      runner.threads(1);
      runner.open(mlp.formatDir("aoti"), mlp);
      assertEquals(Pool.defaultSize(), runner.runners());
      RunnerChecks.concurrentCallersAgree(runner, mlp);
    }
    RunnerChecks.lifeCycleIsGuarded(new AotiRunner(), mlp);
  }

  @Test
  void torchScriptServesFourCallersWithTheThreadsItWasGiven() throws Exception {
    Manifest mlp = RunnerChecks.model("mlp");
    try (LibTorchScriptRunner runner = new LibTorchScriptRunner()) {
      assertTrue(runner.threads(1).isPresent());
      runner.open(mlp.formatDir("torchscript"), mlp);
      RunnerChecks.concurrentCallersAgree(runner, mlp);
      assertEquals(1, org.bytedeco.pytorch.global.torch.get_num_threads()); // set on this thread by its last call
    }
    RunnerChecks.lifeCycleIsGuarded(new LibTorchScriptRunner(), mlp);
  }


  @Test
  void openBlasUnderLibtorchRunsGemmsOnTheCallingThread() throws Exception {
    LibTorch.load();
    // The OpenBLAS libtorch_cpu.so loaded (its own copy, found in this process's mappings): dlopen of the
    // same file hands back the loaded library, whose thread count is what every GEMM uses.
    String openBlas;
    try (Stream<String> maps = Files.lines(Path.of("/proc/self/maps"))) {
      openBlas = maps.map(line -> line.substring(line.indexOf('/') < 0 ? line.length() : line.indexOf('/')))
          .filter(path -> path.contains("libopenblas")).findFirst().orElseThrow();
    }
    int threads = com.sun.jna.NativeLibrary.getInstance(openBlas).getFunction("openblas_get_num_threads").invokeInt(new Object[0]);
    String deployment = System.getenv(LibTorch.BLAS_THREADS_ENV);
    assertEquals(deployment == null ? 1 : Integer.parseInt(deployment), threads, openBlas);
  }

  @Test
  void torchScriptRefusesAFileVersionItsLibtorchDoesNotRead(@TempDir Path tmp) throws Exception {
    RunnerChecks.refusesTorchScriptBeyondItsLibtorch(LibTorchScriptRunner::new, tmp, "2.13.0");
  }

  @Test
  void torchScriptRefusesAProgramThatNeedsTorchvisionsOperators(@TempDir Path tmp) throws Exception {
    RunnerChecks.refusesAMissingOperatorLibrary(LibTorchScriptRunner::new, tmp, LibTorchScriptRunner.NO_OPERATOR_LIBRARIES);
  }

  @Test
  void aotiRefusesAPackageNewerThanItsLibtorch(@TempDir Path tmp) throws Exception {
    assertEquals("model.pt2 was compiled by torch 2.14.0; libtorch 2.13.0 loads AOTI packages of torch 2.13 and older (AOTI"
            + " promises old packages on newer libtorch only): export with torch 2.13 or upgrade libtorch",
        RunnerChecks.refusedForNeeds(new AotiRunner(), tmp, "compiled_by_torch", new JsonPrimitive("2.14.0")));
  }

  @Test
  void aotiRefusesAnIsaTheCpuLacks(@TempDir Path tmp) throws Exception {
    JsonArray avx512 = new JsonArray();
    avx512.add("AVX512");
    Set<String> cpu = AotiLimits.cpuFlags();
    assertTrue(cpu.contains("fma") || cpu.isEmpty(), "an x86-64 Linux CPU Inductor compiles for lists fma: " + cpu);
    assumeFalse(cpu.contains("avx512f"), "this CPU has AVX512: the package would load");
    String message = RunnerChecks.refusedForNeeds(new AotiRunner(), tmp, "cpu_isa", avx512);
    assertTrue(message.startsWith("model.pt2 needs CPU ISA AVX512; this CPU lacks avx512bw, avx512dq, avx512f, avx512vl: "), message);
  }

  @Test
  void aotiIsaWordsNameTheirCpuFlags() throws Exception {
    Manifest mlp = RunnerChecks.model("mlp");
    // The package's ISA is this machine's (AVX2 or AVX512...): a CPU with every flag any ISA word names runs it.
    Set<String> every = new HashSet<>(Set.of("sse4_2"));
    AotiLimits.ISA_FLAGS.values().forEach(every::addAll);
    assertTrue(AotiLimits.refusal(mlp, "aoti", "model.pt2", "2.13.0", every).isEmpty(), "a CPU with every flag runs it");
    String refused = AotiLimits.refusal(mlp, "aoti", "model.pt2", "2.13.0", Set.of("sse4_2")).orElseThrow();
    assertTrue(refused.contains("needs CPU ISA AVX") && refused.contains("this CPU lacks") && refused.contains("fma"), refused);
    assertTrue(AotiLimits.refusal(mlp, "aoti", "model.pt2", "2.13.0", Set.of()).isEmpty(), "unreadable flags: libtorch decides");
    assertTrue(AotiLimits.refusal(mlp, "aoti", "model.pt2", "2.14.0", every).isEmpty(), "an older package on a newer libtorch loads");
  }
}
