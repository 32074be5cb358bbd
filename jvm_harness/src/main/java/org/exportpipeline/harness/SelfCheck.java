package org.exportpipeline.harness;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Pure-Java parity check: every registered runner on every golden case of each model folder.
 * Usage: SelfCheck [--engine NAME] artifacts/MODEL... ; exit 0 all passed, 1 a mismatch, 2 bad input.
 * Without --engine it runs itself once per engine, each in its own JVM (see {@link #main}).
 */
public final class SelfCheck {

  /** One runner's verdict on one model, with load and first-run times. */
  public record Result(String model, String format, String runtime, String version, Parity parity,
      double loadMs, double firstRunMs) {
    @Override
    public String toString() {
      return String.format("%-12s %-12s %-17s %s (load %.0f ms, first run %.1f ms)",
          model, format, runtime, parity, loadMs, firstRunMs);
    }
  }

  private SelfCheck() {}

  /**
   * Runs every runner of one engine whose format the manifest marks ok; a runner error fails that
   * runner only. One engine per JVM: two libtorch builds (DJL's, JavaCPP's) cannot share a process.
   */
  public static List<Result> check(Path modelDir, String engine) throws Exception {
    Manifest manifest = Manifest.read(modelDir);
    List<Manifest.GoldenCase> cases = manifest.goldenCases();
    List<Result> results = new ArrayList<>();
    for (Runner runner : Runners.of(engine)) {
      if (!manifest.exported(runner.format())) {
        continue;
      }
      Parity parity = new Parity(manifest.atol(runner.format()), manifest.rtol(runner.format()));
      double loadMs = 0;
      double firstRunMs = 0;
      String version = "unavailable";
      try (runner) {
        version = runner.version(); // starts the engine's native side: loadMs is the model's alone
        long start = System.nanoTime();
        runner.open(manifest.formatDir(runner.format()), manifest);
        loadMs = (System.nanoTime() - start) / 1e6;
        for (Manifest.GoldenCase goldenCase : cases) {
          start = System.nanoTime();
          var outputs = runner.run(goldenCase.inputs());
          if (parity.cases() == 0) {
            firstRunMs = (System.nanoTime() - start) / 1e6;
          }
          parity.add(outputs, goldenCase.outputs());
        }
      } catch (Exception e) {
        parity.fail(e.getClass().getSimpleName() + ": " + firstLine(e.getMessage()));
      }
      results.add(new Result(manifest.model(), runner.format(), runner.runtime(), version, parity, loadMs, firstRunMs));
    }
    return results;
  }

  static String firstLine(String message) {
    return message == null ? "(no message)" : message.strip().lines().findFirst().orElse("");
  }

  public static void main(String[] args) throws Exception {
    boolean oneEngine = args.length > 0 && args[0].equals(ENGINE_FLAG);
    List<String> models = Arrays.asList(args).subList(oneEngine ? Math.min(2, args.length) : 0, args.length);
    if (models.isEmpty() || (oneEngine && !Runners.engines().contains(args[1]))) {
      System.err.println("usage: SelfCheck [" + ENGINE_FLAG + " " + String.join("|", Runners.engines())
          + "] artifacts/MODEL... (folders written by `python -m exporters export`)");
      System.exit(2);
    }
    System.exit(oneEngine ? checkEngine(args[1], models) : EngineProcesses.runEach(models));
  }

  static final String ENGINE_FLAG = "--engine";
  /** Exit code of a JVM whose engine had no exported format to check: not an error by itself. */
  static final int NOTHING_CHECKED = 3;

  private static int checkEngine(String engine, List<String> models) {
    boolean allPassed = true;
    int checked = 0;
    for (String arg : models) {
      List<Result> results;
      try {
        results = check(Path.of(arg), engine);
      } catch (Exception e) {
        System.err.println("error: " + arg + ": " + firstLine(e.getMessage()));
        return 2;
      }
      for (Result result : results) {
        System.out.println(result);
        allPassed &= result.parity().passed();
        checked++;
      }
    }
    return checked == 0 ? NOTHING_CHECKED : allPassed ? 0 : 1;
  }
}
