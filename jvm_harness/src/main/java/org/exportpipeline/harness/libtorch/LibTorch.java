package org.exportpipeline.harness.libtorch;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.exportpipeline.harness.DTypes;
import org.exportpipeline.harness.contract.Tensor;

/** What both libtorch 2.13 runners share: the engine name, its version, and tensor conversions. */
final class LibTorch {
  static final DTypes<ScalarType> TYPES = DTypes.of("libtorch", ScalarType.Float, ScalarType.Double, ScalarType.Int,
      ScalarType.Long, ScalarType.Bool);
  /** JavaCPP's libtorch cannot share a JVM with DJL's libtorch 2.7.1: runners of this engine run in their own. */
  static final String ENGINE = "libtorch-javacpp";

  /** JavaCPP unpacks libtorch (~350 MB) into ~/.javacpp/cache unless told; this env var tells it, as DJL_CACHE_DIR does DJL. */
  static final String CACHE_ENV = "JAVACPP_CACHE_DIR";
  private static final String CACHE_PROPERTY = "org.bytedeco.javacpp.cachedir";

  static {
    String cache = System.getenv(CACHE_ENV);
    if (System.getProperty(CACHE_PROPERTY) == null && cache != null && !cache.isBlank()) {
      System.setProperty(CACHE_PROPERTY, cache);
    }
  }

  private LibTorch() {}

  /**
   * JavaCPP's libtorch does its GEMMs in OpenBLAS (a pthreads build, not the wheel's MKL), whose own
   * thread pool (one thread per core) ignores at::set_num_threads: overlapping callers, ATen's OpenMP
   * pool and OpenBLAS's pool fought over the cores. With one OpenBLAS thread a GEMM runs on its calling
   * thread, with the intra-op threads IntraOpThreads chose. Measured side by side in one JVM (encoder,
   * 7 golden shapes, 4 callers x 7 calls, 2 busy shared cores, 2 JVMs x 2 reps each way): torchscript
   * 29-50 s wall, 24-28 s CPU with OpenBLAS's default against 7.4-14 s and 7.1-11 s with one thread;
   * aoti (its extern GEMMs use the same OpenBLAS) 27-43 s -> 6.9-8.4 s; one caller 2-3x less CPU too.
   * OpenBLAS reads it when it loads, so it is set before libtorch loads; a deployment's own
   * OPENBLAS_NUM_THREADS wins.
   */
  static final String BLAS_THREADS_ENV = "OPENBLAS_NUM_THREADS";

  /**
   * JavaCPP logs through SLF4J, as DJL does, so its one warning reaches the service's logging, not stderr:
   * "Versions of org.bytedeco:javacpp:1.5.14 and org.bytedeco:openblas:0.3.31-1.5.13 do not match" (the
   * presets' own OpenBLAS, 0.3.34-1.5.14, is not on Maven Central; libtorch's GEMMs pass parity with 0.3.31).
   * A deployment's own org.bytedeco.javacpp.logger wins.
   */
  static final String LOGGER_PROPERTY = "org.bytedeco.javacpp.logger";

  /** Loads libtorch (once), after the cache, BLAS and logging settings above: every runner calls this before libtorch. */
  static void load() {
    Environment.setDefault(BLAS_THREADS_ENV, "1");
    if (System.getProperty(LOGGER_PROPERTY) == null) {
      System.setProperty(LOGGER_PROPERTY, "slf4j");
    }
    Loader.load(torch.class);
  }

  /**
   * "libtorch 2.13.0 (JavaCPP presets 1.5.14)", read from the presets jar that carries the native
   * library. Loads libtorch first, so that a runner's load time is the model's alone.
   */
  static String version() {
    load();
    String presets = torch.class.getPackage().getImplementationVersion(); // e.g. 2.13.0-1.5.14
    if (presets == null) {
      return "libtorch (JavaCPP presets, version unknown)";
    }
    int dash = presets.indexOf('-');
    return "libtorch " + presets.substring(0, dash) + " (JavaCPP presets " + presets.substring(dash + 1) + ")";
  }

  /** The libtorch release the presets carry, e.g. "2.13.0" (null when the jar does not say): what needs-checks compare. */
  static String release() {
    String presets = torch.class.getPackage().getImplementationVersion();
    return presets == null ? null : presets.split("-")[0];
  }

  /** A libtorch tensor over the input's own direct buffer (no copy); the buffer must outlive the call. */
  static org.bytedeco.pytorch.Tensor wrap(Tensor input) {
    return torch.from_blob(new Pointer(input.data()), input.shape(), new TensorOptions(TYPES.code(input.dtype())));
  }

  /** Copies libtorch outputs into harness tensors named in the manifest's output order. */
  static Map<String, Tensor> outputs(List<String> names, List<org.bytedeco.pytorch.Tensor> results) {
    if (results.size() != names.size()) {
      throw new IllegalStateException("the model returned " + results.size() + " outputs, the manifest names "
          + names.size() + " (" + String.join(", ", names) + ")");
    }
    Map<String, Tensor> outputs = new LinkedHashMap<>();
    for (int i = 0; i < names.size(); i++) {
      org.bytedeco.pytorch.Tensor result = results.get(i).contiguous();
      BytePointer bytes = new BytePointer(result.data_ptr()).capacity(result.nbytes());
      long[] shape = result.sizes().vec().get();
      // intern(): JavaCPP returns enum values as fresh objects; the table holds the constants themselves.
      outputs.put(names.get(i), Tensor.copyOf(names.get(i), TYPES.dtype(result.scalar_type().intern()), shape, bytes.asByteBuffer()));
    }
    return outputs;
  }
}
