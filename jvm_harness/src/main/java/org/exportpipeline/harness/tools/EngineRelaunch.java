package org.exportpipeline.harness.tools;

import com.google.gson.JsonParseException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.exportpipeline.harness.Runner;
import org.exportpipeline.harness.Runners;
import org.exportpipeline.harness.contract.ContractException;
import org.exportpipeline.harness.contract.Manifest;
import org.exportpipeline.harness.contract.Messages;

/**
 * SelfCheck for one engine in a new JVM (same java, classpath and JVM options): native libraries of
 * two engines never meet in one process. A child that dies (a signal, or an exit code SelfCheck never
 * gives) is that engine's verdict: a crashed result per format it was to check, and the other engines
 * still run. Thread-safe (stateless; each call starts its own child).
 */
final class EngineRelaunch {
  static final int LAST_LINES = 10; // of a dead child's stderr, kept in its crashed results
  static final String HS_ERR_BANNER = "A fatal error has been detected by the Java Runtime Environment";
  private static final Pattern PLAIN = Pattern.compile("[A-Za-z0-9_./=:,@%+-]+");
  // Signal numbers on Linux (x86_64 and aarch64) as a shell and Process.exitValue report them, 128 + N.
  private static final String[] SIGNALS = {null, "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE",
      "SIGKILL", "SIGUSR1", "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM"};

  private EngineRelaunch() {}

  /**
   * Runs the check of these SelfCheck arguments for one engine in a child JVM and adds its results;
   * returns its exit code: 0 or 1 (1 also when the child died: its results are then crashed ones, and
   * the error line on stderr names the command that reproduces it), or 2 when the child refused its
   * input and said why on stderr.
   */
  static int run(String engine, List<String> args, List<CheckResult> results) throws Usage {
    List<String> command = command(engine, args);
    int code;
    String stdout;
    Deque<String> tail = new ArrayDeque<>();
    try {
      Process process = new ProcessBuilder(command).start();
      Thread echo = new Thread(() -> echo(process.getErrorStream(), tail), "stderr of engine " + engine);
      echo.start();
      stdout = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      code = process.waitFor();
      echo.join();
    } catch (IOException e) {
      throw new Usage("could not start a JVM for engine " + engine + " (" + e.getMessage() + "): check that " + command.get(2) + " runs");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new Usage("interrupted while engine " + engine + " ran");
    }
    if (code == 2) {
      return 2;
    }
    if (code != 0 && code != 1) {
      results.addAll(crashed(engine, args, command, code, stdout, List.copyOf(tail)));
      return 1;
    }
    try {
      results.addAll(CheckResult.fromJson(stdout));
    } catch (JsonParseException | IllegalStateException | NullPointerException e) {
      throw new Usage("the JVM for engine " + engine + " printed no results (" + Messages.firstLine(e.getMessage()) + "): run `"
          + reproduce(command) + "` to see why");
    }
    return code;
  }

  /** A crashed result per (folder, format) the engine was to check, after one error line naming what reproduces it. */
  private static List<CheckResult> crashed(String engine, List<String> args, List<String> command, int code, String stdout,
      List<String> tail) throws Usage {
    String signal = code > 128 && code - 128 < SIGNALS.length ? SIGNALS[code - 128] : null;
    List<String> summary = hsErrSummary(stdout + "\n" + String.join("\n", tail));
    List<String> last = summary.isEmpty() ? tail : summary;
    String hint = !summary.isEmpty() ? summary.get(0) : last.isEmpty() ? "no message" : last.get(last.size() - 1).strip();
    String error = "the JVM for engine " + engine + " died with " + (signal != null ? signal : "exit code " + code) + " ("
        + (hint.length() > 200 ? hint.substring(0, 200) : hint) + "): reproduce with `" + reproduce(command) + "`";
    System.err.println("error: " + error);
    List<CheckResult> results = new ArrayList<>();
    try {
      for (ModelCheck.Target target : CheckOptions.parse(args.toArray(String[]::new)).targets()) {
        Manifest manifest = Manifest.read(target.modelDir(), target.manifestSha256());
        for (Runner runner : Runners.of(engine)) {
          if (manifest.exported(runner.format())) {
            results.add(CheckResult.crashed(manifest, runner.format(), runner.runtime(), signal, code, last, error));
          }
        }
      }
    } catch (ContractException e) { // the manifest changed since SelfCheck read it
      throw new Usage(Messages.firstLine(e.getMessage()));
    }
    return results;
  }

  /** Copies the child's stderr to ours line by line, keeping its last non-blank lines. */
  private static void echo(InputStream stream, Deque<String> tail) {
    try (BufferedReader reader = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
      for (String line = reader.readLine(); line != null; line = reader.readLine()) {
        System.err.println(line);
        if (!line.isBlank()) {
          tail.addLast(line);
          if (tail.size() > LAST_LINES) {
            tail.removeFirst();
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The fault line, the problematic frame and the hs_err file's path from the banner a JVM prints (on
   * stdout by default) when it catches a fatal signal in native code; empty without one.
   */
  static List<String> hsErrSummary(String output) {
    List<String> lines = output.lines().map(String::stripTrailing).toList();
    int start = 0;
    while (start < lines.size() && !lines.get(start).contains(HS_ERR_BANNER)) {
      start++;
    }
    List<String> summary = new ArrayList<>();
    if (start == lines.size()) {
      return summary;
    }
    lines.subList(start + 1, lines.size()).stream().filter(l -> l.startsWith("#") && !text(l).isEmpty()).findFirst()
        .ifPresent(l -> summary.add(text(l)));
    for (int i = start; i + 1 < lines.size(); i++) {
      if (lines.get(i).equals("# Problematic frame:") && !text(lines.get(i + 1)).isEmpty()) {
        summary.add(text(lines.get(i + 1)));
      } else if (lines.get(i).equals("# An error report file with more information is saved as:") && !text(lines.get(i + 1)).isEmpty()) {
        summary.add("hs_err: " + text(lines.get(i + 1)));
      }
    }
    return summary;
  }

  private static String text(String bannerLine) {
    return bannerLine.replaceFirst("^[# ]+", "").strip();
  }

  /** The child's command line less --json (so it prints its results as text), quoted for a POSIX shell. */
  static String reproduce(List<String> command) {
    return command.stream().filter(arg -> !arg.equals("--json"))
        .map(arg -> PLAIN.matcher(arg).matches() ? arg : "'" + arg.replace("'", "'\\''") + "'").collect(Collectors.joining(" "));
  }

  /**
   * env CLASSPATH=this JVM's classpath, its java and options, SelfCheck --json --engine ENGINE, and the arguments less
   * any --engine or --json. The classpath travels in the environment, not as -cp: ONNX Runtime 1.29 crashed (SIGSEGV,
   * no hs_err) while creating its environment in a JVM whose command line passed about 4000 bytes, as a -cp of a
   * test classpath did; `env` keeps the reproduce line runnable as printed.
   */
  private static List<String> command(String engine, List<String> args) {
    List<String> command = new ArrayList<>(List.of("env", "CLASSPATH=" + System.getProperty("java.class.path")));
    command.add(ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
    command.addAll(List.of(SelfCheck.class.getName(), "--json", "--engine", engine));
    for (int i = 0; i < args.size(); i++) {
      if (args.get(i).equals("--engine")) {
        i++;
      } else if (!args.get(i).equals("--json")) {
        command.add(args.get(i));
      }
    }
    return command;
  }
}
