package org.exportpipeline.harness.libtorch;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.exportpipeline.harness.Runner;
import org.exportpipeline.harness.contract.Tensor;

/**
 * What both libtorch 2.13 runners share: their engine, its version, and each call run on the intra-op
 * threads of {@link IntraOpThreads}. A libtorch runner writes load, forward and release. Thread-safe
 * as {@link Runner} is.
 */
abstract class LibTorchRunner extends Runner {
  private final IntraOpThreads intraOp = new IntraOpThreads(this::intraOpThreads);

  LibTorchRunner(String format, String runtime) {
    super(format, runtime, LibTorch.ENGINE);
  }

  @Override
  public final String version() {
    return LibTorch.version();
  }

  @Override
  protected final Optional<String> threadsSetting(int count) {
    return Optional.of(IntraOpThreads.describe(count));
  }

  @Override
  protected final Map<String, Tensor> infer(List<Tensor> inputs) throws Exception {
    return intraOp.call(() -> forward(inputs));
  }

  /** One call through libtorch, inputs as {@link Runner#infer} gets them. */
  protected abstract Map<String, Tensor> forward(List<Tensor> inputs);
}
