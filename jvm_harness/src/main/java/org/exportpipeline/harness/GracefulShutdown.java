package org.exportpipeline.harness;

import java.util.ArrayList;
import java.util.List;
import sun.misc.Signal;

/**
 * Stops a service in the one order that is safe for every runtime: on SIGTERM or SIGINT, close each
 * model (calls in flight finish, later calls are refused), then exit. Without it, the JVM's own
 * signal handling starts every shutdown hook at once, ONNX Runtime's among them
 * ({@code OrtEnvironment$OrtEnvCloser} frees the native environment), so a call still running crashed
 * the JVM (SIGSEGV in libonnxruntime, 2 of 3 SIGTERMs under load); and a library's static destructors
 * run at exit under any call still in native code. The exit status is 128 + the signal's number
 * (143 for SIGTERM), as for a JVM stopped by that signal. Thread-safe (install once; the handler runs
 * on its own thread).
 */
public final class GracefulShutdown {
  private GracefulShutdown() {}

  /** Handles SIGTERM and SIGINT from now on: closes each of these (in order), then exits. */
  public static void install(AutoCloseable... models) {
    List<AutoCloseable> closing = List.of(models);
    for (String name : List.of("TERM", "INT")) {
      Signal.handle(new Signal(name), signal -> stop(closing, 128 + signal.getNumber(), "SIG" + name));
    }
  }

  private static void stop(List<AutoCloseable> models, int status, String signal) {
    List<String> failures = new ArrayList<>();
    for (AutoCloseable model : models) {
      try {
        model.close();
      } catch (Exception e) {
        failures.add(e.getClass().getSimpleName() + ": " + e.getMessage());
      }
    }
    if (!failures.isEmpty()) {
      System.err.println("error: closing on " + signal + " failed: " + String.join("; ", failures));
    }
    System.exit(status);
  }
}
