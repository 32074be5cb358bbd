package org.exportpipeline.harness;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Pure-Java parity check: every runner found by ServiceLoader on every golden case of each model
 * folder, after checking every file it reads against the manifest. One JVM process per engine:
 * with several engines on the classpath, main relaunches itself once per engine.
 *
 * <p>Each runner then serves N callers at once (default 4) on the same opened artifact
 * ({@link ConcurrencyCheck}); its verdict needs both.
 *
 * <p>Usage: SelfCheck [--json] [--engine ENGINE] [--callers N] [--manifest-sha256 HEX] artifacts/MODEL ...
 * (a --manifest-sha256 pins the folder after it). Exit 0 all passed, 1 a parity failure,
 * 2 bad input (usage, manifest, a file that does not match it, nothing to check).
 * SelfCheck --list-runners prints "FORMAT RUNTIME ENGINE" for each runner on the classpath.
 * Thread-safe (stateless); each check opens runners of its own.
 */
public final class SelfCheck {
  static final Gson GSON = new GsonBuilder().serializeSpecialFloatingPointValues().create();
  private static final Pattern SHA256 = Pattern.compile("[0-9a-fA-F]{64}");
  private static final String USAGE =
      "usage: SelfCheck [--json] [--engine ENGINE] [--callers N] [--manifest-sha256 HEX] artifacts/MODEL ... (--manifest-sha256 pins the folder after it)";

  /** A model folder to check, with the manifest digest it must have (or null). */
  public record Target(Path modelDir, String manifestSha256) {}

  /**
   * One runner's verdict on one model: verification is what the manifest records under
   * formats.FORMAT.verification["jvm/RUNTIME"] (parity figures, runtime, version, java, timings).
   */
  record Result(String modelDir, String model, String manifestSha256, String format, String runtime, JsonObject verification) {
    public boolean passed() {
      return verification.get("passed").getAsBoolean();
    }

    JsonObject toJson() {
      JsonObject json = new JsonObject();
      json.addProperty("model_dir", modelDir);
      json.addProperty("model", model);
      json.addProperty("manifest_sha256", manifestSha256);
      json.addProperty("format", format);
      json.addProperty("runtime", runtime);
      json.add("verification", verification);
      return json;
    }

    static Result fromJson(JsonObject json) {
      return new Result(json.get("model_dir").getAsString(), json.get("model").getAsString(), json.get("manifest_sha256").getAsString(),
          json.get("format").getAsString(), json.get("runtime").getAsString(), json.getAsJsonObject("verification"));
    }

    @Override
    public String toString() {
      JsonObject v = verification;
      JsonObject c = v.getAsJsonObject("concurrency");
      return String.format("%-12s %-12s %-17s %s max abs %.1e (eager %.1e) worst ratio %.2g over %d case(s)%s (load %.0f ms, first run %.1f ms);"
              + " %d callers: %d calls, %d failed, %d mismatched (%.0f ms)%s",
          model, format, runtime, passed() ? "pass" : "FAIL", v.get("max_abs_err").getAsDouble(), v.get("eager_abs_err").getAsDouble(),
          v.get("worst_ratio").getAsDouble(), v.get("cases").getAsInt(), v.has("error") ? ": " + v.get("error").getAsString() : "",
          v.get("load_ms").getAsDouble(), v.get("first_run_ms").getAsDouble(), c.get("callers").getAsInt(), c.get("calls").getAsInt(),
          c.get("failures").getAsInt(), c.get("mismatches").getAsInt(), c.get("wall_ms").getAsDouble(),
          c.has("first_error") ? ": " + c.get("first_error").getAsString() : "");
    }
  }

  private SelfCheck() {}

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

  /**
   * Checks one model folder with the runners of one engine (null: all, in this JVM). Every file of
   * each format to run and every golden file is checked before any runtime opens anything; a
   * mismatch throws ContractException. A runner error fails that runner only. Then callers threads
   * share each opened runner (see {@link ConcurrencyCheck}).
   */
  public static List<Result> check(Target target, String engine, int callers) throws ContractException {
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
    List<Result> results = new ArrayList<>();
    for (Runner runner : runners) {
      results.add(run(runner, manifest, cases, callers));
    }
    return results;
  }

  private static Result run(Runner runner, Manifest manifest, List<Manifest.GoldenCase> cases, int callers) throws ContractException {
    Parity parity = new Parity(manifest.parity());
    List<Map<String, Tensor>> answers = new ArrayList<>();
    ConcurrencyCheck.Outcome concurrency = ConcurrencyCheck.Outcome.notRun(callers, "the single-caller run failed");
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
        Map<String, Tensor> outputs = runner.run(goldenCase.inputs());
        if (parity.cases() == 0) {
          firstRunMs = (System.nanoTime() - start) / 1e6;
        }
        parity.add(goldenCase.name(), outputs, goldenCase.reference());
        answers.add(outputs);
      }
      if (parity.passed()) {
        concurrency = ConcurrencyCheck.run(runner, manifest.parity(), cases, answers, callers);
      }
    } catch (Exception | LinkageError e) { // LinkageError: a native library that does not load
      parity.fail(e.getClass().getSimpleName() + ": " + firstLine(e.getMessage()));
    }
    JsonObject verification = new JsonObject();
    verification.addProperty("side", "jvm");
    verification.addProperty("runtime", runner.runtime());
    verification.addProperty("version", version);
    verification.addProperty("java", System.getProperty("java.runtime.version"));
    verification.addProperty("load_ms", Math.round(loadMs * 10) / 10.0);
    verification.addProperty("first_run_ms", Math.round(firstRunMs * 100) / 100.0);
    parity.toJson().entrySet().forEach(e -> verification.add(e.getKey(), e.getValue()));
    verification.addProperty("passed", parity.passed() && concurrency.passed());
    verification.add("concurrency", concurrency.toJson());
    return new Result(manifest.modelDir().toString(), manifest.model(), manifest.sha256(), runner.format(), runner.runtime(), verification);
  }

  /** check() over several folders as a JSON array of results: what the JPype driver calls. */
  public static String checkJson(String engine, List<String> modelDirs, List<String> manifestSha256s, int callers) throws ContractException {
    ToolLogging.warningsToStderrUnlessSet();
    JsonArray array = new JsonArray();
    for (int i = 0; i < modelDirs.size(); i++) {
      String pin = manifestSha256s == null ? null : manifestSha256s.get(i);
      for (Result result : check(new Target(Path.of(modelDirs.get(i)), pin), engine, callers)) {
        array.add(result.toJson());
      }
    }
    return GSON.toJson(array);
  }

  static String firstLine(String message) {
    String line = message == null ? "" : message.strip().lines().findFirst().orElse("");
    return line.isEmpty() ? "(no message)" : line;
  }

  /** Bad input: one line on stderr, exit 2. */
  private static final class Usage extends Exception {
    Usage(String message) {
      super(message);
    }
  }

  private record Options(boolean json, String engine, int callers, List<Target> targets, List<String> args) {}

  private static Options parse(String[] args) throws Usage {
    boolean json = false;
    String engine = null;
    int callers = ConcurrencyCheck.DEFAULT_CALLERS;
    String pin = null;
    List<Target> targets = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      switch (arg) {
        case "--json" -> json = true;
        case "--engine", "--callers", "--manifest-sha256" -> {
          if (i + 1 == args.length) {
            throw new Usage(arg + " needs a value; " + USAGE);
          }
          String value = args[++i];
          if (arg.equals("--engine")) {
            engine = value;
          } else if (arg.equals("--callers")) {
            callers = callers(value);
          } else if (!SHA256.matcher(value).matches()) {
            throw new Usage("--manifest-sha256 " + value + " is not a sha256 (64 hex digits): use `sha256sum MODEL/manifest.json`");
          } else {
            pin = value;
          }
        }
        default -> {
          if (arg.startsWith("--")) {
            throw new Usage("unknown option " + arg + "; " + USAGE);
          }
          targets.add(new Target(Path.of(arg), pin));
          pin = null;
        }
      }
    }
    if (pin != null) {
      throw new Usage("--manifest-sha256 " + pin + " pins no folder: put it before the folder it pins");
    }
    if (targets.isEmpty()) {
      throw new Usage(USAGE);
    }
    return new Options(json, engine, callers, targets, List.of(args));
  }

  private static int callers(String value) throws Usage {
    try {
      int callers = Integer.parseInt(value);
      if (callers >= 1) {
        return callers;
      }
    } catch (NumberFormatException e) {
      // said below
    }
    throw new Usage("--callers " + value + " is not a positive whole number of threads");
  }

  public static void main(String[] args) {
    ToolLogging.warningsToStderrUnlessSet();
    if (List.of(args).equals(List.of("--list-runners"))) { // what a deployment bundle needs per format
      Runners.of(null).forEach(r -> System.out.println(r.format() + " " + r.runtime() + " " + r.engine()));
      return;
    }
    try {
      System.exit(run(parse(args)));
    } catch (Usage | ContractException e) {
      System.err.println("error: " + firstLine(e.getMessage()));
      System.exit(2);
    }
  }

  private static int run(Options options) throws ContractException, Usage {
    List<Result> results = new ArrayList<>();
    SortedSet<String> engines = options.engine() == null ? engines(options.targets()) : new TreeSet<>(List.of(options.engine()));
    if (engines.size() == 1) {
      for (Target target : options.targets()) {
        results.addAll(check(target, engines.first(), options.callers()));
      }
    } else {
      for (String engine : engines) {
        int code = relaunch(engine, options.args(), results);
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
    boolean passed = results.stream().allMatch(Result::passed);
    if (options.json()) {
      JsonArray array = new JsonArray();
      results.forEach(result -> array.add(result.toJson()));
      System.out.println(GSON.toJson(array));
    } else {
      results.forEach(System.out::println);
      System.out.println(passed ? "JVM self-check passed" : "JVM self-check FAILED");
    }
    return passed ? 0 : 1;
  }

  /**
   * Runs this check for one engine in a new JVM (same java, classpath and JVM options) and adds its
   * results; returns its exit code. Native libraries of two engines never meet in one process.
   */
  private static int relaunch(String engine, List<String> args, List<Result> results) throws Usage {
    List<String> command = new ArrayList<>();
    command.add(ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), SelfCheck.class.getName(), "--json", "--engine", engine));
    for (int i = 0; i < args.size(); i++) {
      if (args.get(i).equals("--engine")) {
        i++;
      } else if (!args.get(i).equals("--json")) {
        command.add(args.get(i));
      }
    }
    int code;
    String stdout;
    try {
      Process process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
      stdout = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      code = process.waitFor();
    } catch (IOException e) {
      throw new Usage("could not start a JVM for engine " + engine + " (" + e.getMessage() + "): check that " + command.get(0) + " runs");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new Usage("interrupted while engine " + engine + " ran");
    }
    if (code != 0 && code != 1) {
      if (code != 2) {
        System.err.println("error: the JVM for engine " + engine + " exited with code " + code + " (a native crash?): run SelfCheck --engine " + engine + " to see it alone");
      }
      return code == 2 ? 2 : 1;
    }
    try {
      for (JsonElement element : JsonParser.parseString(stdout).getAsJsonArray()) {
        results.add(Result.fromJson(element.getAsJsonObject()));
      }
    } catch (JsonParseException | IllegalStateException | NullPointerException e) {
      throw new Usage("the JVM for engine " + engine + " printed no results (" + firstLine(e.getMessage()) + "): run SelfCheck --engine " + engine + " to see why");
    }
    return code;
  }
}
