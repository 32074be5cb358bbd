package org.exportpipeline.harness.executorch;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.exportpipeline.harness.contract.Manifest;
import org.exportpipeline.harness.NativeLibraries;
import org.exportpipeline.harness.NativeLocations;
import org.exportpipeline.harness.Pool;
import org.exportpipeline.harness.DTypes;
import org.exportpipeline.harness.Limits;
import org.exportpipeline.harness.PooledRunner;
import org.exportpipeline.harness.contract.Tensor;

/**
 * ExecuTorch programs (.pte, XNNPACK-delegated) through a small JNI shim over ExecuTorch's Module API
 * (src/main/native/executorch_jni.cpp). `make jvm` builds the shim against the C++ runtime SDK of
 * the pinned executorch wheel and puts it, with the runtime libraries it links, in target/native/.
 *
 * <p>Thread-safe: a loaded Module runs one call at a time (a second caller's inputs land mid
 * execution: InvalidState, or a wrong answer), so each call borrows a Module from a bounded pool and
 * callers beyond it wait. XNNPACK's thread pool is process-wide and runs one computation at a time, so
 * with its default (every core) the pool holds one Module: a lock. Measured on the encoder, 4 callers
 * x 25 calls, 2 cores: one Module 20.3 s and 577 MB RSS, two Modules 20.4 s and 702 MB (each Module
 * packs its own weights). With threads(n), each call runs on n cores and the pool holds cores / n
 * Modules. close() waits for calls in flight.
 */
public final class ExecuTorchRunner extends PooledRunner<Long> {
  static final String LIBRARY = "libexecutorch_jni.so";
  /** Where the shim and the ExecuTorch libraries lie; default: native/ beside the harness jar. */
  public static final String NATIVE_DIR_PROPERTY = "harness.executorch.dir";
  public static final String NATIVE_DIR_ENV = "HARNESS_EXECUTORCH_DIR";

  /** ExecuTorch's ScalarType codes (runtime/core/portable_type/scalar_type.h), as PyTorch numbers them. */
  private static final DTypes<Integer> TYPES = DTypes.of("ExecuTorch", 6, 7, 3, 4, 11);

  private static boolean loaded;

  public ExecuTorchRunner() {
    super("executorch", "executorch-jni", "executorch");
  }

  @Override
  public String version() {
    load();
    return "executorch " + nativeVersion();
  }

  @Override
  protected Optional<String> threadsSetting(int count) { // 0: XNNPACK's default, one per core
    return Optional.of("XNNPACK threadpool resized to " + count + " at open (process-wide, shared by every Module)");
  }

  @Override
  protected Limits limits() {
    load();
    String version = nativeVersion();
    return (manifest, format, main) -> ProgramLimits.refusal(manifest, format, main, version);
  }

  @Override
  protected void load(Path formatDir, Manifest manifest) throws Exception {
    if (intraOpThreads() > 0) {
      nativeSetThreads(intraOpThreads());
    }
    String program = formatDir.resolve(manifest.main(format())).toString();
    int perCall = intraOpThreads() > 0 ? intraOpThreads() : Pool.defaultSize();
    pool("ExecuTorch Modules", Math.max(1, Pool.defaultSize() / perCall), () -> nativeOpen(program));
    pool().with(handle -> handle); // loads the first Module now: a bad program fails open(), not the first call
  }

  /** How many Modules the pool may hold (for tests). */
  int moduleLimit() {
    return pool().max();
  }

  @Override
  protected Map<String, Tensor> call(Long handle, List<Tensor> inputs) {
    ByteBuffer[] buffers = new ByteBuffer[inputs.size()];
    long[][] shapes = new long[inputs.size()][];
    int[] dtypes = new int[inputs.size()];
    for (int i = 0; i < buffers.length; i++) {
      Tensor input = inputs.get(i);
      buffers[i] = input.data();
      shapes[i] = input.shape();
      dtypes[i] = TYPES.code(input.dtype());
    }
    Object[] results = nativeForward(handle, buffers, shapes, dtypes);
    List<String> outputNames = outputNames();
    if (results.length != 3 * outputNames.size()) {
      throw new IllegalStateException("the program returned " + results.length / 3 + " outputs, the manifest names "
          + outputNames.size() + " (" + String.join(", ", outputNames) + ")");
    }
    Map<String, Tensor> outputs = new LinkedHashMap<>();
    for (int i = 0; i < outputNames.size(); i++) {
      String name = outputNames.get(i);
      long[] shape = (long[]) results[3 * i];
      Tensor.DType dtype = TYPES.dtype(((int[]) results[3 * i + 1])[0]);
      outputs.put(name, new Tensor(name, dtype, shape, (ByteBuffer) results[3 * i + 2]));
    }
    return outputs;
  }

  @Override
  protected void free(Long handle) {
    nativeClose(handle);
  }

  private static synchronized void load() {
    if (loaded) {
      return;
    }
    Optional<Path> configured = NativeLocations.setting(NATIVE_DIR_PROPERTY, NATIVE_DIR_ENV).map(Path::of);
    Optional<Path> dir;
    try {
      dir = configured.isPresent() ? configured : NativeLibraries.folder("executorch");
    } catch (IOException e) {
      throw new IllegalStateException("ExecuTorch's natives jar could not be extracted: " + e.getMessage(), e);
    }
    Path library = dir.map(d -> d.resolve(LIBRARY)).orElse(null);
    if (library == null || !Files.isRegularFile(library)) {
      throw new IllegalStateException("ExecuTorch JNI library " + (library == null ? LIBRARY + " not on the classpath" : library + " not found")
          + ": depend on org.exportpipeline:jvm-harness-executorch (its natives jar carries it), or set -D"
          + NATIVE_DIR_PROPERTY + " (or " + NATIVE_DIR_ENV + ") to the folder that holds it");
    }
    // Its RUNPATH ($ORIGIN) finds the runtime, XNNPACK backend and kernel libraries copied beside it.
    System.load(library.toString());
    loaded = true;
  }

  private static native String nativeVersion();

  private static native int nativeSetThreads(int count);

  private static native long nativeOpen(String path);

  private static native Object[] nativeForward(long handle, ByteBuffer[] buffers, long[][] shapes, int[] dtypes);

  private static native void nativeClose(long handle);
}
