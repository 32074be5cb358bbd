package org.exportpipeline.harness.tools;

import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedSet;
import java.util.TreeSet;
import org.exportpipeline.harness.Runner;
import org.exportpipeline.harness.Runners;
import org.exportpipeline.harness.contract.ContractException;
import org.exportpipeline.harness.contract.Manifest;
import org.exportpipeline.harness.contract.Messages;
import org.exportpipeline.harness.contract.Parity;
import org.exportpipeline.harness.contract.Tensor;
import org.exportpipeline.harness.contract.TextContract;

/**
 * The check of one model folder in this JVM: every runner on the classpath whose format was
 * exported, on every golden case, after checking every file it reads against the manifest; then each
 * runner serves N callers at once on the same opened artifact ({@link ConcurrencyCheck}), and its
 * verdict needs both. Thread-safe (stateless); each check opens runners of its own.
 */
public final class ModelCheck {
  /** A model folder to check, with the manifest digest it must have (or null). */
  public record Target(Path modelDir, String manifestSha256) {}

  private ModelCheck() {}

  /**
   * The engines that have something to check in these folders: reads each manifest (checking its
   * pin) and keeps the engines of runners whose format was exported.
   */
  public static SortedSet<String> engines(List<Target> targets) throws ContractException {
    SortedSet<String> engines = new TreeSet<>();
    for (Target target : targets) {
      Manifest manifest = Manifest.read(target.modelDir(), target.manifestSha256());
      for (Runner runner : Runners.of(null)) {
        if (manifest.exported(runner.format())) {
          engines.add(runner.engine());
        }
      }
    }
    return engines;
  }

  /** {@link #check(Target, String, int, Soak.Settings)} without a soak. */
  public static List<CheckResult> check(Target target, String engine, int callers) throws ContractException {
    return check(target, engine, callers, null);
  }

  /**
   * Checks one model folder with the runners of one engine (null: all, in this JVM). Every file of
   * each format to run and every golden file is checked before any runtime opens anything; a
   * mismatch throws ContractException. A runner error fails that runner only. Then callers threads
   * share each opened runner (see {@link ConcurrencyCheck}), and with soak settings (or null) the
   * sustained check of {@link Soak} follows, its outcome part of the verdict.
   */
  public static List<CheckResult> check(Target target, String engine, int callers, Soak.Settings soak) throws ContractException {
    Manifest manifest = Manifest.read(target.modelDir(), target.manifestSha256());
    List<Runner> runners = new ArrayList<>();
    for (Runner runner : Runners.of(engine)) {
      if (manifest.exported(runner.format())) {
        runners.add(runner);
      }
    }
    if (runners.isEmpty()) {
      return List.of();
    }
    List<Manifest.GoldenCase> cases = manifest.checked(runners.stream().map(Runner::format).distinct().toList());
    Optional<TextContract> text = manifest.text();
    List<CheckResult> results = new ArrayList<>();
    for (Runner runner : runners) {
      results.add(run(runner, manifest, cases, text, callers, soak));
    }
    return results;
  }

  private static CheckResult run(Runner runner, Manifest manifest, List<Manifest.GoldenCase> cases, Optional<TextContract> text, int callers,
      Soak.Settings soak) throws ContractException {
    Parity parity = new Parity(manifest.parity());
    List<Map<String, Tensor>> answers = new ArrayList<>();
    ConcurrencyCheck.Outcome concurrency = ConcurrencyCheck.Outcome.notRun(callers, "the single-caller run failed");
    Soak.Outcome soaked = soak == null ? null : Soak.Outcome.notRun(soak, "the single-caller run failed");
    JsonObject textResult = null;
    double loadMs = 0;
    double firstRunMs = 0;
    String version = "unavailable";
    String doing = "loading the artifact"; // what a runtime error interrupted, in the words Python's verify uses
    boolean raised = false;
    try (runner) {
      version = runner.version(); // starts the engine's native side: loadMs is the model's alone
      long start = System.nanoTime();
      runner.open(manifest.formatDir(runner.format()), manifest);
      loadMs = (System.nanoTime() - start) / 1e6;
      for (Manifest.GoldenCase goldenCase : cases) {
        doing = "running golden " + goldenCase.name() + " (" + goldenCase.where() + ")";
        start = System.nanoTime();
        Map<String, Tensor> outputs = runner.run(goldenCase.inputs());
        if (parity.cases() == 0) {
          firstRunMs = (System.nanoTime() - start) / 1e6;
        }
        parity.add(goldenCase.name(), goldenCase.where(), outputs, goldenCase.reference());
        answers.add(outputs);
      }
      if (parity.passed()) {
        concurrency = ConcurrencyCheck.run(runner, manifest.parity(), cases, answers, callers);
        if (soak != null) {
          soaked = Soak.run(runner, manifest.parity(), cases, answers, soak);
        }
      }
      if (text.isPresent()) { // strings to answers through the same opened runner
        doing = "running the text cases";
        textResult = TextCheck.run(runner, text.get(), callers);
      }
    } catch (Exception | LinkageError e) { // LinkageError: a native library that does not load
      parity.fail(doing + ": " + Messages.decisiveLine(e));
      raised = true;
    }
    JsonObject verification = new JsonObject();
    verification.addProperty("side", "jvm");
    verification.addProperty("runtime", runner.runtime());
    verification.addProperty("version", version);
    verification.addProperty("java", System.getProperty("java.runtime.version"));
    verification.addProperty("load_ms", Math.round(loadMs * 10) / 10.0);
    verification.addProperty("first_run_ms", Math.round(firstRunMs * 100) / 100.0);
    ParityJson.of(parity).entrySet().forEach(e -> verification.add(e.getKey(), e.getValue()));
    if (raised) {
      verification.addProperty("raised", true);
    }
    boolean textPassed = text.isEmpty() || textResult != null && textResult.get("passed").getAsBoolean();
    verification.addProperty("passed", parity.passed() && concurrency.passed() && (soaked == null || soaked.passed()) && textPassed);
    verification.add("concurrency", concurrency.toJson());
    if (soaked != null) {
      verification.add("soak", soaked.toJson());
    }
    if (textResult != null) {
      verification.add("text", textResult);
    }
    return new CheckResult(manifest.modelDir().toString(), manifest.model(), manifest.sha256(), runner.format(), runner.runtime(), verification);
  }
}
