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
import org.exportpipeline.harness.contract.Manifest;
import org.exportpipeline.harness.Limits;
import org.exportpipeline.harness.contract.Tensor;
import org.exportpipeline.harness.TorchScriptLimits;

/**
 * TorchScript on libtorch 2.13, the exporter's own torch (JavaCPP presets), beside DJL's libtorch
 * 2.7.1: two TorchScript runtimes make a built-in compatibility check.
 *
 * <p>Thread-safe: one module serves every caller (libtorch's forward is safe concurrently while
 * nothing mutates the module), each call with the intra-op threads of {@link IntraOpThreads}.
 * close() waits for calls in flight.
 */
public final class LibTorchScriptRunner extends LibTorchRunner {

  private JitModule module;

  public LibTorchScriptRunner() {
    super("torchscript", "libtorch-javacpp");
  }

  /**
   * Why torchvision's operators cannot join this libtorch: the only build for torch 2.13 is the PyPI wheel's
   * _C.so, which links libtorch_python.so and the CUDA libraries (libtorch_cuda.so, libc10_cuda.so,
   * libcudart.so.13) that the presets' CPU libtorch does not carry; System.load fails on the first of them
   * (measured; with those entries stripped it still stops at libc10_cuda.so's CUDACachingAllocator::allocator).
   */
  static final String NO_OPERATOR_LIBRARIES = "the only torchvision built for libtorch 2.13 (the PyPI wheel's _C.so) links "
      + "libtorch_python.so and CUDA's libraries, which this CPU libtorch lacks; serve the ONNX artifact";

  @Override
  protected String withoutOperatorLibraries() {
    return NO_OPERATOR_LIBRARIES;
  }

  @Override
  protected Limits limits() {
    LibTorch.load();
    return TorchScriptLimits.on(LibTorch.release());
  }

  @Override
  protected void load(Path formatDir, Manifest manifest) throws Exception {
    module = torch.load(formatDir.resolve(manifest.main(format())).toString());
    module.eval();
  }

  @Override
  protected Map<String, Tensor> forward(List<Tensor> inputs) {
    try (PointerScope scope = new PointerScope(); NoGradGuard noGrad = new NoGradGuard()) {
      IValueVector feeds = new IValueVector();
      for (Tensor input : inputs) {
        feeds.push_back(new IValue(LibTorch.wrap(input)));
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
      return LibTorch.outputs(outputNames(), results);
    }
  }

  @Override
  protected void release() {
    if (module != null) {
      module.close();
      module = null;
    }
  }
}
