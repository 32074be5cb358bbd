package org.exportpipeline.harness.tools;

import com.google.gson.Gson;
import com.google.gson.JsonObject;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.exportpipeline.harness.Runner;
import org.exportpipeline.harness.Runners;
import org.exportpipeline.harness.contract.ContractException;
import org.exportpipeline.harness.contract.Manifest;
import org.exportpipeline.harness.contract.Messages;
import org.exportpipeline.harness.contract.Tensor;

/**
 * Latency of one JVM runtime on one model folder, timed inside Java: model load, first run, then
 * warm-up and timed repeats per batch size. Inputs are a golden case's rows tiled along dim 0 into
 * direct buffers once, so the timed loop measures {@link Runner#run}, not input copies.
 *
 * <pre>
 * Bench --runtime NAME [--threads N] [--warmup W] [--warmup-s S] [--repeats R] [--batch B]... [--callers C]...
 *       [--case NAME] MODEL_DIR
 * </pre>
 *
 * Warm-up runs at least W calls and at least S seconds, so the JIT has compiled the call path even
 * for models that answer in microseconds. Prints one JSON row per batch and caller count on stdout
 * (the runtimes: SelfCheck --list-runners).
 * Each batch opens the artifact afresh, so every row has its own load and first-run time. With C
 * callers, C threads share that one opened runner (as a service's request threads do): each makes W
 * untimed calls (so pools have grown to what the callers overlap), then R timed calls, all callers
 * released together; throughput is calls x batch over the wall time from release to the last return,
 * percentiles are over every caller's calls. The default case is the one with the most input elements.
 * Exit 0 ok, 1 the runtime failed, 2 bad input. A command-line tool, not for use from other threads.
 */
public final class Bench {
  private static final Gson GSON = new Gson();

  private Bench() {}

  /** What one invocation measures. */
  record Options(String runtime, int threads, int warmup, double warmupSeconds, int repeats, List<Integer> batches,
      List<Integer> callers, String caseName, Path modelDir) {}

  /** The runtime failed on the model (as opposed to a bad command line). */
  static final class RuntimeFailure extends Exception {
    RuntimeFailure(String message, Throwable cause) {
      super(message, cause);
    }
  }

  public static void main(String[] args) {
    ToolLogging.warningsToStderrUnlessSet();
    try {
      for (JsonObject row : measure(parse(args))) {
        System.out.println(GSON.toJson(row));
      }
      System.exit(0);
    } catch (Usage e) {
      System.err.println("error: " + e.getMessage());
      System.exit(2);
    } catch (RuntimeFailure e) {
      System.err.println("error: " + e.getMessage());
      System.exit(1);
    }
  }

  static Options parse(String[] args) throws Usage {
    String runtime = null;
    String caseName = null;
    Path modelDir = null;
    int threads = 1;
    int warmup = 5;
    double warmupSeconds = 1.0;
    int repeats = 100;
    List<Integer> batches = new ArrayList<>();
    List<Integer> callers = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      if (!arg.startsWith("--")) {
        if (modelDir != null) {
          throw new Usage("one model folder per run, got " + modelDir + " and " + arg);
        }
        modelDir = Path.of(arg);
        continue;
      }
      if (i + 1 == args.length) {
        throw new Usage(arg + " needs a value");
      }
      String value = args[++i];
      switch (arg) {
        case "--runtime" -> runtime = value;
        case "--case" -> caseName = value;
        case "--threads" -> threads = positive(arg, value, 1);
        case "--warmup" -> warmup = positive(arg, value, 0);
        case "--warmup-s" -> warmupSeconds = seconds(arg, value);
        case "--repeats" -> repeats = positive(arg, value, 1);
        case "--batch" -> batches.add(positive(arg, value, 1));
        case "--callers" -> callers.add(positive(arg, value, 1));
        default -> throw new Usage("unknown option " + arg + "; see the usage in Bench's javadoc");
      }
    }
    if (runtime == null || modelDir == null) {
      throw new Usage("usage: Bench --runtime NAME [--threads N] [--warmup W] [--warmup-s S] [--repeats R] [--batch B]..."
          + " [--callers C]... [--case NAME] MODEL_DIR (the runtimes: SelfCheck --list-runners)");
    }
    return new Options(runtime, threads, warmup, warmupSeconds, repeats, batches.isEmpty() ? List.of(1) : batches,
        callers.isEmpty() ? List.of(1) : callers, caseName, modelDir);
  }

  private static double seconds(String option, String value) throws Usage {
    try {
      double number = Double.parseDouble(value);
      if (number >= 0 && number <= 3600) {
        return number;
      }
    } catch (NumberFormatException e) {
      // reported below with the same words
    }
    throw new Usage(option + " " + value + ": expected seconds between 0 and 3600");
  }

  private static int positive(String option, String value, int min) throws Usage {
    try {
      int number = Integer.parseInt(value);
      if (number >= min) {
        return number;
      }
    } catch (NumberFormatException e) {
      // reported below with the same words
    }
    throw new Usage(option + " " + value + ": expected a whole number >= " + min);
  }

  /** One row per batch size and caller count: load, first run, then percentiles over the timed repeats. */
  static List<JsonObject> measure(Options options) throws Usage, RuntimeFailure {
    Manifest manifest;
    Manifest.GoldenCase goldenCase;
    String format = runnerFor(options.runtime()).format();
    try {
      manifest = Manifest.read(options.modelDir(), null);
      if (!manifest.exported(format)) {
        throw new Usage(options.modelDir() + " has no exported " + format + " artifact for " + options.runtime()
            + ": export it first (python -m exporters export MODEL -f " + format + ")");
      }
      manifest.verifyFormat(format); // every file checked before the runtime opens any
      goldenCase = chooseCase(manifest.goldenCases(), options.caseName());
    } catch (ContractException | RuntimeException e) {
      throw new Usage(options.modelDir() + ": " + Messages.firstLine(e.getMessage()));
    }
    List<JsonObject> rows = new ArrayList<>();
    for (int batch : options.batches()) {
      Map<String, Tensor> inputs = tile(goldenCase.inputs(), batch);
      try (Runner runner = runnerFor(options.runtime())) {
        rows.addAll(measure(runner, manifest, inputs, batch, goldenCase.name(), options));
      } catch (Exception e) {
        throw new RuntimeFailure(options.runtime() + " on " + options.modelDir() + " at batch " + batch + ": "
            + e.getClass().getSimpleName() + ": " + Messages.firstLine(e.getMessage()), e);
      }
    }
    return rows;
  }

  private static List<JsonObject> measure(Runner runner, Manifest manifest, Map<String, Tensor> inputs, int batch,
      String caseName, Options options) throws Exception {
    Optional<String> threadSetting = runner.threads(options.threads());
    String version = runner.version(); // starts the engine's native side: load_ms is the model's alone
    long start = System.nanoTime();
    runner.open(manifest.formatDir(runner.format()), manifest);
    double loadMs = (System.nanoTime() - start) / 1e6;
    start = System.nanoTime();
    runner.run(inputs);
    double firstRunMs = (System.nanoTime() - start) / 1e6;
    long warmupEnd = System.nanoTime() + (long) (options.warmupSeconds() * 1e9);
    int warmups = 0;
    while (warmups < options.warmup() || System.nanoTime() < warmupEnd) {
      runner.run(inputs);
      warmups++;
    }
    List<JsonObject> rows = new ArrayList<>();
    for (int callers : options.callers()) {
      Timed timed = time(runner, inputs, callers, options.warmup(), options.repeats());
      double[] samples = timed.samplesMs();
      Arrays.sort(samples);
      JsonObject row = new JsonObject();
      row.addProperty("model", manifest.model());
      row.addProperty("format", runner.format());
      row.addProperty("side", "jvm");
      row.addProperty("runtime", runner.runtime());
      row.addProperty("version", version);
      row.addProperty("java", System.getProperty("java.runtime.version"));
      row.addProperty("case", caseName);
      row.addProperty("batch", batch);
      row.addProperty("callers", callers);
      row.addProperty("p50_ms", percentile(samples, 50));
      row.addProperty("p90_ms", percentile(samples, 90));
      row.addProperty("p99_ms", percentile(samples, 99));
      row.addProperty("throughput_per_s", (double) batch * samples.length / (timed.wallMs() / 1e3));
      row.addProperty("load_ms", loadMs);
      row.addProperty("first_run_ms", firstRunMs);
      row.addProperty("threads", threadSetting.isPresent() ? options.threads() : null);
      row.addProperty("thread_setting", threadSetting.orElse("not settable in this binding: runtime default"));
      row.addProperty("warmup", warmups);
      row.addProperty("repeats", options.repeats());
      rows.add(row);
    }
    return rows;
  }

  /** Every timed call's milliseconds, and the wall time from the callers' release to the last return. */
  record Timed(double[] samplesMs, double wallMs) {}

  /** {@code callers} threads on one runner: warm-up calls each, then {@code repeats} timed calls each, released together. */
  static Timed time(Runner runner, Map<String, Tensor> inputs, int callers, int warmup, int repeats) throws Exception {
    double[] samples = new double[callers * repeats];
    if (callers == 1) { // on this thread: no hand-off in the one-caller figures
      long begin = System.nanoTime();
      timedCalls(runner, inputs, samples, 0, repeats);
      return new Timed(samples, (System.nanoTime() - begin) / 1e6);
    }
    CountDownLatch ready = new CountDownLatch(callers);
    CountDownLatch go = new CountDownLatch(1);
    ExecutorService pool = Executors.newFixedThreadPool(callers);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int c = 0; c < callers; c++) {
        int offset = c * repeats;
        done.add(pool.submit(() -> {
          try {
            for (int i = 0; i < warmup; i++) {
              runner.run(inputs);
            }
          } finally {
            ready.countDown(); // a caller that failed its warm-up must not hold the others back
          }
          go.await();
          timedCalls(runner, inputs, samples, offset, repeats);
          return null;
        }));
      }
      ready.await();
      long begin = System.nanoTime();
      go.countDown();
      for (Future<?> call : done) {
        try {
          call.get();
        } catch (ExecutionException e) {
          throw e.getCause() instanceof Exception cause ? cause : e;
        }
      }
      return new Timed(samples, (System.nanoTime() - begin) / 1e6);
    } finally {
      pool.shutdownNow();
    }
  }

  private static void timedCalls(Runner runner, Map<String, Tensor> inputs, double[] samples, int offset, int repeats)
      throws Exception {
    for (int i = 0; i < repeats; i++) {
      long start = System.nanoTime();
      runner.run(inputs);
      samples[offset + i] = (System.nanoTime() - start) / 1e6;
    }
  }

  /** Linear interpolation between closest ranks, as numpy.percentile's default: both sides agree. */
  static double percentile(double[] sorted, double p) {
    double rank = p / 100 * (sorted.length - 1);
    int low = (int) Math.floor(rank);
    int high = Math.min(low + 1, sorted.length - 1);
    return sorted[low] + (sorted[high] - sorted[low]) * (rank - low);
  }

  private static Runner runnerFor(String runtime) throws Usage {
    List<Runner> all = Runners.of(null);
    return all.stream()
        .filter(r -> r.runtime().equals(runtime))
        .findFirst()
        .orElseThrow(() -> new Usage("no JVM runner named " + runtime + "; choose from "
            + String.join(", ", all.stream().map(Runner::runtime).toList())));
  }

  /** The named case, or the one with the most input elements (the first of equals), as the Python side picks. */
  static Manifest.GoldenCase chooseCase(List<Manifest.GoldenCase> cases, String name) throws Usage {
    Manifest.GoldenCase chosen = null;
    long most = -1;
    for (Manifest.GoldenCase goldenCase : cases) {
      long elements = goldenCase.inputs().values().stream().mapToLong(Tensor::elementCount).sum();
      if (name == null ? elements > most : goldenCase.name().equals(name)) {
        chosen = goldenCase;
        most = elements;
      }
    }
    if (chosen == null) {
      throw new Usage(name == null ? "the manifest lists no golden cases: re-export the model"
          : "no golden case " + name + "; the manifest has "
              + String.join(", ", cases.stream().map(Manifest.GoldenCase::name).toList()));
    }
    return chosen;
  }

  /** Each input with its dim-0 rows repeated cyclically to {@code batch} rows, in a new direct buffer; scalars as they are. */
  static Map<String, Tensor> tile(Map<String, Tensor> inputs, int batch) {
    Map<String, Tensor> tiled = new LinkedHashMap<>();
    for (Tensor input : inputs.values()) {
      if (input.shape().length == 0) {
        tiled.put(input.name(), input);
        continue;
      }
      long[] shape = input.shape().clone();
      int rows = Math.toIntExact(shape[0]);
      int rowBytes = Math.toIntExact(input.data().remaining() / rows);
      ByteBuffer data = ByteBuffer.allocateDirect(Math.multiplyExact(rowBytes, batch)).order(ByteOrder.nativeOrder());
      for (int row = 0; row < batch; row++) {
        data.put(input.data().duplicate().position((row % rows) * rowBytes).limit((row % rows + 1) * rowBytes));
      }
      shape[0] = batch;
      tiled.put(input.name(), new Tensor(input.name(), input.dtype(), shape, data.flip()));
    }
    return tiled;
  }
}
