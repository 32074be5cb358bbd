package org.exportpipeline.harness.libtorch;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.IValue;
import org.bytedeco.pytorch.IValueVector;
import org.bytedeco.pytorch.JitModule;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.TupleElements;
import org.bytedeco.pytorch.global.torch;
import org.exportpipeline.harness.InputCheck;
import org.exportpipeline.harness.Manifest;
import org.exportpipeline.harness.Runner;
import org.exportpipeline.harness.Tensor;

/**
 * TorchScript on libtorch 2.13, the exporter's own torch (JavaCPP presets), beside DJL's libtorch
 * 2.7.1: two TorchScript runtimes make a built-in compatibility check.
 */
public final class LibTorchScriptRunner implements Runner {
  private static final String MODEL_FILE = "model.pt";

  private JitModule module;
  private InputCheck inputCheck;
  private List<String> inputNames;
  private List<String> outputNames;

  @Override
  public String format() {
    return "torchscript";
  }

  @Override
  public String runtime() {
    return "libtorch-javacpp";
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
    LibTorch.load();
    module = torch.load(formatDir.resolve(MODEL_FILE).toString());
    module.eval();
    inputCheck = new InputCheck(manifest);
    inputNames = manifest.inputNames();
    outputNames = manifest.outputNames();
  }

  @Override
  public Map<String, Tensor> run(Map<String, Tensor> inputs) throws Exception {
    inputCheck.require(inputs);
    try (PointerScope scope = new PointerScope(); NoGradGuard noGrad = new NoGradGuard()) {
      IValueVector feeds = new IValueVector();
      for (String name : inputNames) {
        feeds.push_back(new IValue(LibTorch.wrap(inputs.get(name))));
      }
      IValue result = module.forward(feeds);
      List<org.bytedeco.pytorch.Tensor> results = new ArrayList<>();
      if (result.isTuple()) {
        TupleElements elements = result.toTuple().elements();
        for (long i = 0; i < elements.size(); i++) {
          results.add(elements.get(i).toTensor());
        }
      } else {
        results.add(result.toTensor());
      }
      return LibTorch.outputs(outputNames, results);
    }
  }

  @Override
  public void close() {
    if (module != null) {
      module.close();
      module = null;
    }
  }
}
