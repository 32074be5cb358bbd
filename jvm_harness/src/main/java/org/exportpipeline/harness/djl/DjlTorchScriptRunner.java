package org.exportpipeline.harness.djl;

import ai.djl.engine.Engine;
import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ZooModel;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.exportpipeline.harness.contract.Manifest;
import org.exportpipeline.harness.Pool;
import org.exportpipeline.harness.DTypes;
import org.exportpipeline.harness.Limits;
import org.exportpipeline.harness.PooledRunner;
import org.exportpipeline.harness.TorchScriptLimits;
import org.exportpipeline.harness.contract.Tensor;

/**
 * TorchScript artifacts through DJL's PyTorch engine. libtorch comes from the pytorch-native-cpu
 * jar and offline mode is forced, so loading a model never downloads anything.
 *
 * <p>Thread-safe: one model is shared, and each call borrows a Predictor (DJL's are not thread-safe)
 * from a bounded pool, one per core by default; callers beyond it wait. close() waits for calls in
 * flight.
 */
public final class DjlTorchScriptRunner extends PooledRunner<Predictor<NDList, NDList>> {
  private static final String ENGINE = "PyTorch";

  static {
    System.setProperty("ai.djl.offline", "true");
  }

  private NDManager manager;
  private ZooModel<NDList, NDList> model;

  private static final DTypes<DataType> TYPES = DTypes.of("TorchScript", DataType.FLOAT32, DataType.FLOAT64, DataType.INT32,
      DataType.INT64, DataType.BOOLEAN);

  public DjlTorchScriptRunner() {
    super("torchscript", "djl-pytorch", "djl-pytorch"); // its own engine: libtorch 2.7.1 must not share a JVM with another libtorch
  }

  @Override
  public String version() {
    return "djl " + Engine.getDjlVersion() + ", libtorch " + Engine.getEngine(ENGINE).getVersion();
  }

  @Override
  protected Optional<String> threadsSetting(int count) {
    return Optional.of("libtorch set_num_threads(" + count + ") via DJL JniUtils (process-wide)");
  }

  /**
   * Why torchvision's operators cannot join DJL's libtorch: DJL loads an operator library through
   * PYTORCH_EXTRA_LIBRARY_PATH, but it must be built for DJL's libtorch 2.7.1, while the pipeline's torchvision
   * is built for torch 2.13 (and its wheel's _C.so links libtorch_python.so and CUDA's libraries besides).
   */
  static final String NO_OPERATOR_LIBRARIES = "DJL's libtorch is 2.7.1 and torchvision's operators are built for one "
      + "torch release (the pipeline's for 2.13); serve the ONNX artifact";

  @Override
  protected String withoutOperatorLibraries() {
    return NO_OPERATOR_LIBRARIES;
  }

  @Override
  protected Limits limits() {
    return TorchScriptLimits.on(Engine.getEngine(ENGINE).getVersion());
  }

  @Override
  protected void load(Path formatDir, Manifest manifest) throws Exception {
    model = Criteria.builder()
        .setTypes(NDList.class, NDList.class)
        .optEngine(ENGINE)
        .optModelPath(formatDir)
        .optModelName(manifest.main(format())) // DJL opens formatDir/NAME when it is a file
        .build()
        .loadModel();
    if (intraOpThreads() > 0) { // here, not via ai.djl.pytorch.num_threads: that is read only when the engine first starts
      JniUtils.setNumThreads(intraOpThreads());
    }
    pool("DJL Predictors", Pool.defaultSize(), model::newPredictor);
    manager = NDManager.newBaseManager(ENGINE);
  }

  @Override
  protected Map<String, Tensor> call(Predictor<NDList, NDList> predictor, List<Tensor> inputs) throws Exception {
    List<String> outputNames = outputNames();
    try (NDManager scope = manager.newSubManager()) {
      NDList feeds = new NDList();
      for (Tensor input : inputs) {
        feeds.add(scope.create(input.data(), new Shape(input.shape()), TYPES.code(input.dtype())));
      }
      NDList results = predictor.predict(feeds);
      Map<String, Tensor> outputs = new LinkedHashMap<>();
      for (int i = 0; i < outputNames.size(); i++) {
        NDArray array = results.get(i);
        String name = outputNames.get(i);
        outputs.put(name, Tensor.copyOf(name, TYPES.dtype(array.getDataType()), array.getShape().getShape(), array.toByteBuffer()));
      }
      results.close();
      return outputs;
    }
  }

  @Override
  protected void free(Predictor<NDList, NDList> predictor) {
    predictor.close();
  }

  @Override
  protected void releaseShared() {
    if (model != null) {
      model.close();
      model = null;
    }
    if (manager != null) {
      manager.close();
      manager = null;
    }
  }
}
