package org.exportpipeline.harness;

import java.nio.file.Path;
import java.util.Map;

/** One JVM runtime binding: open a format's artifact, run named tensors, close. */
public interface Runner extends AutoCloseable {

  /** The format folder this runner loads (a key of the manifest's "formats"). */
  String format();

  /** Short runtime name recorded in the manifest, e.g. "onnxruntime-java". */
  String runtime();

  /**
   * The native library family behind the binding. Runners of different engines may not share a JVM
   * (two libtorch builds clash), so self-checks run one JVM per engine.
   */
  default String engine() {
    return runtime();
  }

  /** Version of the native runtime behind the binding. */
  String version();

  /** Loads the artifact in formatDir; inputs and outputs are named as in the manifest. */
  void open(Path formatDir, Manifest manifest) throws Exception;

  /** Runs one case. Errors carry the runtime's own message. */
  Map<String, Tensor> run(Map<String, Tensor> inputs) throws Exception;

  @Override
  void close() throws Exception;
}
