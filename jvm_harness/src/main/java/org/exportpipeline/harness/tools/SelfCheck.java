package org.exportpipeline.harness.tools;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SortedSet;
import java.util.TreeSet;
import org.exportpipeline.harness.Runner;
import org.exportpipeline.harness.Runners;
import org.exportpipeline.harness.contract.ContractException;
import org.exportpipeline.harness.contract.Messages;

/**
 * Pure-Java parity check of model folders ({@link ModelCheck}), from the command line or the JPype
 * driver. One JVM process per engine: with several engines on the classpath, main relaunches
 * itself once per engine ({@link EngineRelaunch}).
 *
 * <p>Usage: SelfCheck [--json] [--engine ENGINE] [--callers N] [--soak SECONDS [--soak-callers N]
 * [--soak-max-rss-slope MIB_PER_MIN]] [--manifest-sha256 HEX] artifacts/MODEL ... (a --manifest-sha256
 * pins the folder after it; --soak adds the sustained check of {@link Soak} to every runner's verdict). Exit 0 all passed, 1 a parity failure,
 * 2 bad input (usage, manifest, a file that does not match it, nothing to check).
 * SelfCheck --list-runners prints "FORMAT RUNTIME ENGINE" for each runner on the classpath.
 * Thread-safe (stateless); each check opens runners of its own.
 */
public final class SelfCheck {
  private SelfCheck() {}

  /** {@link ModelCheck#check} over several folders as a JSON array of results: what the JPype driver calls. */
  public static String checkJson(String engine, List<String> modelDirs, List<String> manifestSha256s, int callers) throws ContractException {
    ToolLogging.warningsToStderrUnlessSet();
    List<CheckResult> results = new ArrayList<>();
    for (int i = 0; i < modelDirs.size(); i++) {
      String pin = manifestSha256s == null ? null : manifestSha256s.get(i);
      results.addAll(ModelCheck.check(new ModelCheck.Target(Path.of(modelDirs.get(i)), pin), engine, callers, null));
    }
    return CheckResult.toJson(results);
  }

  public static void main(String[] args) {
    ToolLogging.warningsToStderrUnlessSet();
    if (List.of(args).equals(List.of("--list-runners"))) { // what a deployment bundle needs per format
      Runners.of(null).forEach(r -> System.out.println(r.format() + " " + r.runtime() + " " + r.engine()));
      return;
    }
    try {
      System.exit(run(CheckOptions.parse(args)));
    } catch (Usage | ContractException e) {
      System.err.println("error: " + Messages.firstLine(e.getMessage()));
      System.exit(2);
    }
  }

  private static int run(CheckOptions options) throws ContractException, Usage {
    List<CheckResult> results = new ArrayList<>();
    SortedSet<String> engines = options.engine() == null ? ModelCheck.engines(options.targets()) : new TreeSet<>(List.of(options.engine()));
    if (engines.size() == 1) {
      for (ModelCheck.Target target : options.targets()) {
        results.addAll(ModelCheck.check(target, engines.first(), options.callers(), options.soak()));
      }
    } else {
      for (String engine : engines) {
        int code = EngineRelaunch.run(engine, options.args(), results);
        if (code != 0 && code != 1) {
          return code; // the child said why on stderr
        }
      }
    }
    if (results.isEmpty()) {
      throw new Usage("nothing checked: no format of " + options.targets().stream().map(t -> t.modelDir().toString()).toList()
          + " was exported for a JVM runner on this classpath (formats: " + Runners.of(options.engine()).stream().map(Runner::format).sorted().toList()
          + "); export one of them");
    }
    boolean passed = results.stream().allMatch(CheckResult::passed);
    if (options.json()) {
      System.out.println(CheckResult.toJson(results));
    } else {
      results.forEach(System.out::println);
      System.out.println(passed ? "JVM self-check passed" : "JVM self-check FAILED");
    }
    return passed ? 0 : 1;
  }
}
