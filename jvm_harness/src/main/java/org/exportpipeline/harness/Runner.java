package org.exportpipeline.harness;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.exportpipeline.harness.contract.Manifest;
import org.exportpipeline.harness.contract.Tensor;

/**
 * One JVM runtime binding: open a format's artifact, run named tensors, close. Implementations are
 * found with {@link java.util.ServiceLoader} (META-INF/services/org.exportpipeline.harness.Runner in
 * each engine's jar); their constructors must not load native code, since every runner on the
 * classpath is instantiated to learn its engine.
 *
 * <p>Implementations are thread-safe: once opened, run may be called from any number of threads
 * (each states how: a shared session, or a bounded pool whose extra callers wait). open once; run
 * before open or after close throws IllegalStateException; close waits for calls in flight.
 */
public interface Runner extends AutoCloseable {

  /** The format folder this runner loads (a key of the manifest's "formats"). */
  String format();

  /** Short runtime name recorded in the manifest, e.g. "onnxruntime-java". */
  String runtime();

  /**
   * The native engine behind the binding. Runners of one engine share a JVM; engines whose natives
   * clash (two libtorch builds) run in separate JVM processes. Defaults to the runtime name.
   */
  default String engine() {
    return runtime();
  }

  /** Version of the native runtime behind the binding. */
  String version();

  /**
   * Asks for {@code count} intra-op threads; call before {@link #open}. Returns how the runtime was
   * told, or empty where this binding cannot set it (benchmarks state which).
   */
  default Optional<String> threads(int count) {
    return Optional.empty();
  }

  /** Loads the artifact in formatDir; inputs and outputs are named as in the manifest. */
  void open(Path formatDir, Manifest manifest) throws Exception;

  /** Runs one case. Errors carry the runtime's own message. */
  Map<String, Tensor> run(Map<String, Tensor> inputs) throws Exception;

  @Override
  void close() throws Exception;
}
