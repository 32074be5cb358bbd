package org.exportpipeline.harness.libtorch;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.AOTIModelPackageLoader;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.TensorVector;
import org.exportpipeline.harness.contract.Manifest;
import org.exportpipeline.harness.Pool;
import org.exportpipeline.harness.Limits;
import org.exportpipeline.harness.TempFolder;
import org.exportpipeline.harness.contract.Tensor;

/**
 * AOTInductor packages through libtorch 2.13's AOTIModelPackageLoader (JavaCPP presets). Loading a
 * package loads the shared library compiled at export time: only load packages you trust.
 *
 * <p>The loader unpacks the package (its .so included) under $TMPDIR: open() points TMPDIR at a
 * private {@link TempFolder} for the loader's constructor and close() deletes the loader and that
 * folder (a JVM killed before close leaves it to the next runner's open, which removes it).
 * Compiled models check input shapes only with AOTI_RUNTIME_CHECK_INPUTS=1 in the process
 * environment: open() sets the manifest's settings (the exporter's, AOTI_RUNTIME_CHECK_INPUTS=1 among
 * them) as environment defaults, as the Python side sets them; run() also checks inputs against the
 * manifest first, so a wrong shape fails with the same message in every runner.
 *
 * <p>Thread-safe: the loader holds num_runners compiled-model runners; a call takes a free one and
 * waits while all are busy. Kernels compiled by Inductor parallelize over the export host's cores
 * whatever the caller sets, so by default there is one runner (calls take turns: encoder, 4 callers
 * x 25 calls on 2 cores, 14.6 s with one runner against 22.8 s with two); with threads(n) there are
 * cores / n. Each call uses the intra-op threads of {@link IntraOpThreads}. close() waits for calls
 * in flight.
 */
public final class AotiRunner extends LibTorchRunner {
  private static final String MODEL_NAME = "model"; // the loader's default
  private static final byte CPU = -1; // device index

  private TempFolder unpackDir;
  private AOTIModelPackageLoader loader;

  public AotiRunner() {
    super("aoti", "libtorch-aoti");
  }

  @Override
  protected Limits limits() {
    LibTorch.load();
    String release = LibTorch.release();
    // asked before the package's .so loads: an instruction set the CPU lacks is refused, not a SIGILL
    return (manifest, format, main) -> AotiLimits.refusal(manifest, format, main, release, AotiLimits.cpuFlags());
  }

  @Override
  protected void load(Path formatDir, Manifest manifest) throws Exception {
    String main = manifest.main(format());
    manifest.settings(format()).forEach(Environment::setDefault);
    unpackDir = TempFolder.create("aoti-package-");
    String pt2 = formatDir.resolve(main).toString();
    loader = Environment.with("TMPDIR", unpackDir.path().toString(),
        () -> new AOTIModelPackageLoader(pt2, MODEL_NAME, false, runners(), CPU));
  }

  @Override
  protected Map<String, Tensor> forward(List<Tensor> inputs) {
    try (PointerScope scope = new PointerScope(); NoGradGuard noGrad = new NoGradGuard()) {
      TensorVector feeds = new TensorVector();
      for (Tensor input : inputs) {
        feeds.push_back(LibTorch.wrap(input));
      }
      return LibTorch.outputs(outputNames(), List.of(loader.run(feeds).get()));
    }
  }

  /** How many calls the loader runs at once: one per share of the cores a call uses. */
  long runners() {
    int perCall = intraOpThreads() > 0 ? intraOpThreads() : Pool.defaultSize();
    return Math.max(1, Pool.defaultSize() / perCall);
  }

  /** The private folder the package was unpacked into (for tests). */
  Path unpackDir() {
    return unpackDir.path();
  }

  @Override
  protected void release() throws IOException {
    if (loader != null) {
      loader.close(); // the C++ destructor unloads the model and removes what it unpacked
      loader = null;
    }
    if (unpackDir != null) {
      unpackDir.close();
      unpackDir = null;
    }
  }
}
