package org.exportpipeline.harness;

import java.util.List;
import java.util.function.Supplier;

/** The registry of JVM runtime bindings: adding one is a Runner class and one line here. */
public final class Runners {
  private static final List<Supplier<Runner>> ALL = List.of(OrtRunner::new, DjlTorchScriptRunner::new);

  private Runners() {}

  /** A fresh, unopened runner of every registered binding. */
  public static List<Runner> all() {
    return ALL.stream().map(Supplier::get).toList();
  }
}
