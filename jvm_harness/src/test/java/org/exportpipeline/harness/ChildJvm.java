package org.exportpipeline.harness;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A child JVM for tests that need a process of their own (to be killed, or to start with its own environment): this
 * JVM's java and classpath, the classpath given as CLASSPATH (a long command line crashes ONNX Runtime 1.29).
 */
public final class ChildJvm {
  private ChildJvm() {}

  /** A process builder running main with args; the caller may edit its environment before starting it. */
  public static ProcessBuilder of(Class<?> main, String... args) {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), main.getName()));
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().put("CLASSPATH", System.getProperty("java.class.path"));
    return builder;
  }
}
