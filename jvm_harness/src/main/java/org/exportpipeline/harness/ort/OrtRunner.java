package org.exportpipeline.harness.ort;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.exportpipeline.harness.CallGate;
import org.exportpipeline.harness.ContractException;
import org.exportpipeline.harness.Manifest;
import org.exportpipeline.harness.Runner;
import org.exportpipeline.harness.Tensor;

/**
 * ONNX artifacts through ONNX Runtime Java; inputs wrap the caller's direct buffers without a copy.
 *
 * <p>Thread-safe: one OrtSession serves every caller (ORT documents concurrent run() on a session as
 * safe); close() waits for calls in flight, since closing a session under a run crashes.
 */
public final class OrtRunner implements Runner {
  private static final String MODEL_FILE = "model.onnx"; // weights beside it in model.onnx.data

  private OrtEnvironment env; // loads ORT's native library: not in the constructor (see Runner)
  private final CallGate gate = new CallGate(runtime());
  private OrtSession session;
  private List<String> outputNames;
  private int threads; // 0: ORT's default, one intra-op thread per physical core

  @Override
  public String format() {
    return "onnx";
  }

  @Override
  public String runtime() {
    return "onnxruntime-java";
  }

  @Override
  public String engine() {
    return "onnxruntime";
  }

  @Override
  public String version() {
    return environment().getVersion();
  }

  private OrtEnvironment environment() {
    if (env == null) {
      env = OrtEnvironment.getEnvironment();
      try {
        env.setTelemetry(false); // a parity check or a service should call nowhere (as OpenVINO's opt-out)
      } catch (OrtException e) {
        throw new IllegalStateException("ONNX Runtime refused to turn telemetry off: " + e.getMessage(), e);
      }
    }
    return env;
  }

  @Override
  public Optional<String> threads(int count) {
    threads = count;
    return Optional.of("SessionOptions.setIntraOpNumThreads(" + count + ")");
  }

  @Override
  public void open(Path formatDir, Manifest manifest) throws Exception {
    gate.open(() -> {
      openNow(formatDir, manifest);
      return null;
    });
  }

  private void openNow(Path formatDir, Manifest manifest) throws OrtException, ContractException {
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
      if (threads > 0) {
        options.setIntraOpNumThreads(threads);
      }
      session = environment().createSession(formatDir.resolve(MODEL_FILE).toString(), options);
    }
    outputNames = manifest.outputNames();
  }

  @Override
  public Map<String, Tensor> run(Map<String, Tensor> inputs) throws Exception {
    return gate.call(() -> infer(inputs));
  }

  private Map<String, Tensor> infer(Map<String, Tensor> inputs) throws OrtException {
    Map<String, OnnxTensor> feeds = new LinkedHashMap<>();
    try {
      for (Tensor input : inputs.values()) {
        feeds.put(input.name(), OnnxTensor.createTensor(environment(), input.data(), input.shape(), javaType(input.dtype())));
      }
      try (OrtSession.Result result = session.run(feeds)) {
        Map<String, Tensor> outputs = new LinkedHashMap<>();
        for (String name : outputNames) {
          OnnxValue value = result.get(name).orElseThrow(() -> new IllegalStateException("no output " + name));
          OnnxTensor tensor = (OnnxTensor) value;
          TensorInfo info = tensor.getInfo();
          outputs.put(name, Tensor.copyOf(name, dtype(info.type), info.getShape(), tensor.getByteBuffer()));
        }
        return outputs;
      }
    } finally {
      for (OnnxTensor feed : new ArrayList<>(feeds.values())) {
        feed.close();
      }
    }
  }

  private static OnnxJavaType javaType(Tensor.DType dtype) {
    return switch (dtype) {
      case FLOAT32 -> OnnxJavaType.FLOAT;
      case FLOAT64 -> OnnxJavaType.DOUBLE;
      case INT32 -> OnnxJavaType.INT32;
      case INT64 -> OnnxJavaType.INT64;
      case BOOL -> OnnxJavaType.BOOL;
    };
  }

  private static Tensor.DType dtype(OnnxJavaType type) {
    return switch (type) {
      case FLOAT -> Tensor.DType.FLOAT32;
      case DOUBLE -> Tensor.DType.FLOAT64;
      case INT32 -> Tensor.DType.INT32;
      case INT64 -> Tensor.DType.INT64;
      case BOOL -> Tensor.DType.BOOL;
      default -> throw new IllegalArgumentException("unsupported ONNX output type " + type);
    };
  }

  @Override
  public void close() throws Exception {
    gate.close(() -> {
      if (session != null) {
        session.close();
      }
      return null;
    });
  }
}
