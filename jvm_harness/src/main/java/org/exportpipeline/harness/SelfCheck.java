package org.exportpipeline.harness;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Pure-Java parity check: every registered runner on every golden case of each model folder.
 * Usage: SelfCheck artifacts/MODEL... ; exit 0 all passed, 1 a mismatch, 2 bad input.
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

  /** Runs every runner whose format the manifest marks ok; a runner error fails that runner only. */
  public static List<Result> check(Path modelDir) throws Exception {
    Manifest manifest = Manifest.read(modelDir);
    List<Manifest.GoldenCase> cases = manifest.goldenCases();
    List<Result> results = new ArrayList<>();
    for (Runner runner : Runners.all()) {
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

  public static void main(String[] args) {
    if (args.length == 0) {
      System.err.println("usage: SelfCheck artifacts/MODEL... (folders written by `python -m exporters export`)");
      System.exit(2);
    }
    boolean allPassed = true;
    int checked = 0;
    for (String arg : args) {
      List<Result> results;
      try {
        results = check(Path.of(arg));
      } catch (Exception e) {
        System.err.println("error: " + arg + ": " + firstLine(e.getMessage()));
        System.exit(2);
        return;
      }
      for (Result result : results) {
        System.out.println(result);
        allPassed &= result.parity().passed();
        checked++;
      }
    }
    if (checked == 0) {
      System.err.println("error: no format that a JVM runner supports was exported in " + String.join(", ", args));
      System.exit(2);
    }
    System.out.println(allPassed ? "JVM self-check passed" : "JVM self-check FAILED");
    System.exit(allPassed ? 0 : 1);
  }
}
