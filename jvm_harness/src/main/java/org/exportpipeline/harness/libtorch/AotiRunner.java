package org.exportpipeline.harness.libtorch;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.AOTIModelPackageLoader;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.TensorVector;
import org.exportpipeline.harness.InputCheck;
import org.exportpipeline.harness.Manifest;
import org.exportpipeline.harness.Runner;
import org.exportpipeline.harness.Tensor;

/**
 * AOTInductor packages through libtorch 2.13's AOTIModelPackageLoader (JavaCPP presets). Loading a
 * package loads the shared library compiled at export time: only load packages you trust.
 *
 * <p>The loader unpacks the package into a fresh mkdtemp folder under /tmp (hard-coded in libtorch
 * 2.13 on Linux) and its destructor removes it: close() deletes the loader at once instead of
 * leaving that to the garbage collector. Compiled models do not check input shapes unless
 * AOTI_RUNTIME_CHECK_INPUTS=1 is in the process environment, so run() checks them against the
 * manifest first.
 */
public final class AotiRunner implements Runner {
  private static final String MODEL_FILE = "model.pt2";

  private AOTIModelPackageLoader loader;
  private InputCheck inputCheck;
  private List<String> inputNames;
  private List<String> outputNames;

  @Override
  public String format() {
    return "aoti";
  }

  @Override
  public String runtime() {
    return "libtorch-aoti";
  }

  @Override
  public String engine() {
    return LibTorch.ENGINE;
  }

  @Override
  public String version() {
    return LibTorch.version();
  }

  @Override
  public void open(Path formatDir, Manifest manifest) throws Exception {
    loader = new AOTIModelPackageLoader(formatDir.resolve(MODEL_FILE).toString());
    inputCheck = new InputCheck(manifest);
    inputNames = manifest.inputNames();
    outputNames = manifest.outputNames();
  }

  @Override
  public Map<String, Tensor> run(Map<String, Tensor> inputs) throws Exception {
    inputCheck.require(inputs);
    try (PointerScope scope = new PointerScope(); NoGradGuard noGrad = new NoGradGuard()) {
      TensorVector feeds = new TensorVector();
      for (String name : inputNames) {
        feeds.push_back(LibTorch.wrap(inputs.get(name)));
      }
      return LibTorch.outputs(outputNames, List.of(loader.run(feeds).get()));
    }
  }

  @Override
  public void close() {
    if (loader != null) {
      loader.close(); // runs the C++ destructor, which removes the unpacked package from /tmp
      loader = null;
    }
  }
}
