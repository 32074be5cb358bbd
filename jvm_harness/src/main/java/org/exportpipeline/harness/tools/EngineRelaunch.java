package org.exportpipeline.harness.tools;

import com.google.gson.JsonParseException;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.exportpipeline.harness.contract.Messages;

/**
 * SelfCheck for one engine in a new JVM (same java, classpath and JVM options): native libraries of
 * two engines never meet in one process. Thread-safe (stateless; each call starts its own child).
 */
final class EngineRelaunch {
  private EngineRelaunch() {}

  /**
   * Runs the check of these SelfCheck arguments for one engine in a child JVM and adds its results;
   * returns its exit code (0 or 1, or 2 when the child refused its input and said why on stderr).
   */
  static int run(String engine, List<String> args, List<CheckResult> results) throws Usage {
    List<String> command = command(engine, args);
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
      results.addAll(CheckResult.fromJson(stdout));
    } catch (JsonParseException | IllegalStateException | NullPointerException e) {
      throw new Usage("the JVM for engine " + engine + " printed no results (" + Messages.firstLine(e.getMessage()) + "): run SelfCheck --engine " + engine + " to see why");
    }
    return code;
  }

  /** This JVM's java and options, SelfCheck --json --engine ENGINE, and the arguments less any --engine or --json. */
  private static List<String> command(String engine, List<String> args) {
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
    return command;
  }
}
