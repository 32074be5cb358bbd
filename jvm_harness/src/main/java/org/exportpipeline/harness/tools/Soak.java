package org.exportpipeline.harness.tools;

import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import org.exportpipeline.harness.Runner;
import org.exportpipeline.harness.contract.Manifest;
import org.exportpipeline.harness.contract.Parity;
import org.exportpipeline.harness.contract.Tensor;

/**
 * A service's conditions, sustained: N callers share one opened runner for a stated time, cycling
 * through every golden case (the whole box: min, max and interior shapes in flight together), each
 * call on fresh direct buffers that are dropped right after it, while a pressure thread churns direct
 * memory and forces collections. Every answer must be the case's single-caller answer (or within the
 * parity rule, as in {@link ConcurrencyCheck}); native memory (RSS) is sampled each second and its
 * slope after the warm-up is reported, and bounded where the soak is long enough to judge it. Memory a runtime reads after the GC freed it shows
 * up here in seconds as wrong answers (OpenVINO took two minutes of plain load). Thread-safe (stateless).
 */
public final class Soak {
  /** Callers when a soak is asked for without --callers: what a busy service has in flight. */
  public static final int DEFAULT_CALLERS = 8;
  /** The bound on RSS growth after the warm-up, MiB per minute: a leak of one small buffer per call exceeds it. */
  public static final double DEFAULT_MAX_RSS_SLOPE = 30;
  private static final long GC_EVERY_MS = 25;
  private static final int CHURN_SLOTS = 64;

  /**
   * A slope is judged over at least this long after the warm-up: over less, allocators still settling
   * (one arena per calling thread, every shape's first buffers) read as growth of hundreds of MiB/min
   * (20 s soaks of the encoder: 72-564 MiB/min, while 120 s soaks settled to -20..22).
   */
  public static final double MIN_JUDGED_SECONDS = 60;

  /** How long, with how many callers, and the slope bound. */
  public record Settings(double seconds, int callers, double maxRssSlopeMibPerMinute) {
    /** The first quarter (at least 5 s, at most 60 s) is warm-up: allocators and JIT settle there. */
    double warmupSeconds() {
      return Math.min(60, Math.max(5, seconds / 4));
    }

    /** Whether the RSS slope is long enough to judge (else it is reported only). */
    boolean judgesRss() {
      return seconds - warmupSeconds() >= MIN_JUDGED_SECONDS;
    }
  }

  /** What SelfCheck records under verification.soak. */
  public record Outcome(Settings settings, int calls, int wrong, int failures, int notBitIdentical, double wallSeconds,
      long collections, double rssStartMib, double rssEndMib, double rssSlopeMibPerMinute, String firstError) {
    public boolean passed() {
      return calls > 0 && wrong == 0 && failures == 0 && (!settings.judgesRss() || rssSlopeMibPerMinute <= settings.maxRssSlopeMibPerMinute());
    }

    double callsPerSecond() {
      return wallSeconds > 0 ? calls / wallSeconds : 0;
    }

    JsonObject toJson() {
      JsonObject json = new JsonObject();
      json.addProperty("callers", settings.callers());
      json.addProperty("seconds", round(wallSeconds, 1));
      json.addProperty("calls", calls);
      json.addProperty("calls_per_s", round(callsPerSecond(), 2));
      json.addProperty("wrong", wrong);
      json.addProperty("failures", failures);
      json.addProperty("not_bit_identical", notBitIdentical);
      json.addProperty("gc_collections", collections);
      json.addProperty("rss_start_mib", round(rssStartMib, 1));
      json.addProperty("rss_end_mib", round(rssEndMib, 1));
      json.addProperty("rss_slope_mib_per_min", round(rssSlopeMibPerMinute, 2));
      json.addProperty("rss_slope_max", settings.maxRssSlopeMibPerMinute());
      json.addProperty("rss_judged", settings.judgesRss());
      json.addProperty("passed", passed());
      if (firstError != null) {
        json.addProperty("first_error", firstError);
      }
      return json;
    }

    static Outcome notRun(Settings settings, String why) {
      return new Outcome(settings, 0, 0, 0, 0, 0, 0, 0, 0, 0, "not run: " + why);
    }
  }

  private Soak() {}

  /** Runs the soak on the opened runner; answers[i] is the single-caller answer to cases[i]. */
  public static Outcome run(Runner runner, Parity.Spec spec, List<Manifest.GoldenCase> cases, List<Map<String, Tensor>> answers,
      Settings settings) throws InterruptedException {
    Answers known = new Answers(spec, cases, answers);
    Answers.Tally tally = new Answers.Tally();
    AtomicBoolean stop = new AtomicBoolean();
    List<Thread> threads = new ArrayList<>();
    for (int caller = 0; caller < settings.callers(); caller++) {
      int offset = caller;
      threads.add(new Thread(() -> {
        for (int k = 0; !stop.get(); k++) {
          int index = (offset + k) % known.size();
          known.call(runner, index, known.freshInputs(index), offset, k, tally);
        }
      }, "soak-caller-" + caller));
    }
    Thread pressure = new Thread(() -> churn(stop), "soak-gc-pressure");
    long collectionsBefore = collections();
    List<double[]> rss = new ArrayList<>(); // {seconds since start, MiB}
    long begin = System.nanoTime();
    pressure.start();
    threads.forEach(Thread::start);
    long deadline = begin + (long) (settings.seconds() * 1e9);
    while (System.nanoTime() < deadline) {
      rss.add(new double[] {(System.nanoTime() - begin) / 1e9, rssMib()});
      Thread.sleep(Math.max(1, Math.min(1000, (deadline - System.nanoTime()) / 1_000_000)));
    }
    stop.set(true);
    for (Thread thread : threads) {
      thread.join();
    }
    pressure.join();
    double wall = (System.nanoTime() - begin) / 1e9;
    rss.add(new double[] {wall, rssMib()});
    return new Outcome(settings, tally.calls.get(), tally.wrong.get(), tally.failures.get(), tally.notBitIdentical.get(), wall,
        collections() - collectionsBefore,
        rss.get(0)[1], rss.get(rss.size() - 1)[1], slopePerMinute(rss, settings.warmupSeconds()), tally.firstError.get());
  }

  /** Direct buffers of input-like sizes, filled and dropped, and a forced collection every few ms: freed memory is reused at once. */
  private static void churn(AtomicBoolean stop) {
    ByteBuffer[] slots = new ByteBuffer[CHURN_SLOTS];
    ThreadLocalRandom random = ThreadLocalRandom.current();
    long lastGc = System.nanoTime();
    while (!stop.get()) {
      ByteBuffer buffer = ByteBuffer.allocateDirect(64 << random.nextInt(12)); // 64 B .. 128 KiB
      while (buffer.hasRemaining()) {
        buffer.put((byte) 0x7f); // reads as NaN in float32: memory read after its free shows
      }
      slots[random.nextInt(CHURN_SLOTS)] = buffer;
      if (System.nanoTime() - lastGc > GC_EVERY_MS * 1_000_000) {
        System.gc();
        lastGc = System.nanoTime();
      }
    }
  }

  private static long collections() {
    return java.lang.management.ManagementFactory.getGarbageCollectorMXBeans().stream()
        .mapToLong(gc -> Math.max(0, gc.getCollectionCount())).sum();
  }

  /** This process's resident set (VmRSS), MiB; 0 where /proc is not there. */
  static double rssMib() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
        }
      }
    } catch (IOException | NumberFormatException e) {
      // no /proc: no figure
    }
    return 0;
  }

  /** Least-squares slope of the samples after the warm-up, MiB per minute (0 with fewer than 3 samples). */
  static double slopePerMinute(List<double[]> samples, double warmupSeconds) {
    List<double[]> settled = samples.stream().filter(s -> s[0] >= warmupSeconds).toList();
    if (settled.size() < 3) {
      return 0;
    }
    double n = settled.size();
    double meanT = settled.stream().mapToDouble(s -> s[0]).sum() / n;
    double meanR = settled.stream().mapToDouble(s -> s[1]).sum() / n;
    double cov = 0;
    double var = 0;
    for (double[] s : settled) {
      cov += (s[0] - meanT) * (s[1] - meanR);
      var += (s[0] - meanT) * (s[0] - meanT);
    }
    return var == 0 ? 0 : cov / var * 60;
  }

  private static double round(double value, int digits) {
    double scale = Math.pow(10, digits);
    return Math.round(value * scale) / scale;
  }
}
