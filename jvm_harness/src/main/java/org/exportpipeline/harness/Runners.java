package org.exportpipeline.harness;

import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;

/**
 * The runners on the classpath, as each engine's jar registers them (META-INF/services): the one
 * place that lists them, for {@link Model}, SelfCheck and Bench alike. Instantiating a runner loads
 * no native code. Thread-safe (each call builds fresh runners).
 */
public final class Runners {
  private Runners() {}

  /** A fresh runner of every registered kind, or of one engine's (null: every engine). */
  public static List<Runner> of(String engine) {
    List<Runner> runners = new ArrayList<>();
    for (Runner runner : ServiceLoader.load(Runner.class)) {
      if (engine == null || engine.equals(runner.engine())) {
        runners.add(runner);
      }
    }
    return runners;
  }

  /** A fresh runner for the format, by runtime name (null: the first registered for the format). */
  public static Runner forFormat(String format, String runtime) {
    List<Runner> runners = of(null).stream()
        .filter(r -> r.format().equals(format) && (runtime == null || r.runtime().equals(runtime)))
        .toList();
    if (runners.isEmpty()) {
      throw new IllegalArgumentException("no runner for format " + format + (runtime == null ? "" : " and runtime " + runtime)
          + " on the classpath: add that engine's jar (python -m jvm_harness classpath --engine ENGINE)");
    }
    return runners.get(0);
  }
}
