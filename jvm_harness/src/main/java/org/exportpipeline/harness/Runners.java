package org.exportpipeline.harness;

import java.util.List;
import java.util.function.Supplier;
import org.exportpipeline.harness.executorch.ExecuTorchRunner;
import org.exportpipeline.harness.libtorch.AotiRunner;
import org.exportpipeline.harness.libtorch.LibTorchScriptRunner;
import org.exportpipeline.harness.openvino.OpenVinoRunner;

/**
 * The registry of JVM runtime bindings: adding one is a Runner class and one line here (and in
 * META-INF/services/org.exportpipeline.harness.Runner, for ServiceLoader discovery).
 */
public final class Runners {
  private static final List<Supplier<Runner>> ALL = List.of(OrtRunner::new, DjlTorchScriptRunner::new,
      LibTorchScriptRunner::new, AotiRunner::new, OpenVinoRunner::new, ExecuTorchRunner::new);

  private Runners() {}

  /** A fresh, unopened runner of every registered binding. */
  public static List<Runner> all() {
    return ALL.stream().map(Supplier::get).toList();
  }

  /** Fresh runners of one engine only: engines whose native libraries clash need separate JVMs. */
  public static List<Runner> of(String engine) {
    return all().stream().filter(r -> r.engine().equals(engine)).toList();
  }

  /** Every engine name, in registry order. */
  public static List<String> engines() {
    return all().stream().map(Runner::engine).distinct().toList();
  }
}
