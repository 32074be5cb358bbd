package org.exportpipeline.harness;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * SelfCheck's orchestration: one child JVM per engine (same java binary and classpath), since
 * runners of different native engines cannot share a process; it also isolates a native crash.
 */
final class EngineProcesses {
  private EngineProcesses() {}

  /** Runs `SelfCheck --engine E models...` for every engine; returns SelfCheck's exit code over all. */
  static int runEach(List<String> models) throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    boolean allPassed = true;
    boolean checked = false;
    for (String engine : Runners.engines()) {
      List<String> command = new ArrayList<>(List.of(java, "-cp", System.getProperty("java.class.path")));
      command.addAll(forwardedOptions());
      command.addAll(List.of(SelfCheck.class.getName(), SelfCheck.ENGINE_FLAG, engine));
      command.addAll(models);
      int code = new ProcessBuilder(command).inheritIO().start().waitFor();
      switch (code) {
        case 0 -> checked = true;
        case 1 -> {
          checked = true;
          allPassed = false;
        }
        case SelfCheck.NOTHING_CHECKED -> { }
        case 2 -> {
          return 2; // bad input: the child said what
        }
        default -> {
          System.err.println("error: the " + engine + " JVM exited with code " + code
              + " (a native crash?): run SelfCheck " + SelfCheck.ENGINE_FLAG + " " + engine + " alone to see it");
          allPassed = false;
          checked = true;
        }
      }
    }
    if (!checked) {
      System.err.println("error: no format that a JVM runner supports was exported in " + String.join(", ", models));
      return 2;
    }
    System.out.println(allPassed ? "JVM self-check passed" : "JVM self-check FAILED");
    return allPassed ? 0 : 1;
  }

  /** The harness's own -D settings and native-access flags, so children find what the parent was told. */
  private static List<String> forwardedOptions() {
    List<String> options = new ArrayList<>();
    for (String name : System.getProperties().stringPropertyNames()) {
      if (name.startsWith("harness.")) {
        options.add("-D" + name + "=" + System.getProperty(name));
      }
    }
    if (Runtime.version().feature() >= 22) {
      options.add("--enable-native-access=ALL-UNNAMED");
    }
    return options;
  }
}
